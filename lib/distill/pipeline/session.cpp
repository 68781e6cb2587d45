#include <distill/core/parallel.hpp>
#include <distill/pipeline/session.hpp>

namespace distill::pipeline {

Session::Session(const Options& options, core::Reporter& reporter)
    : m_cache(options.cache_dir.empty() ? core::Cache::default_root() : options.cache_dir)
    , m_reporter(reporter)
    , m_jobs(options.jobs > 0 ? options.jobs : core::default_jobs())
    , m_transfers(options.jobs > 0 ? options.jobs : k_default_transfers)
    , m_epoch(options.epoch) {}

} // namespace distill::pipeline
