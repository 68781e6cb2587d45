#include <fmt/format.h>

#include <distill/core/fs.hpp>
#include <distill/package/record.hpp>

namespace distill::package {
namespace {

std::filesystem::path remembered_path(const core::Cache& cache, const std::string& name,
                                      const std::string& version, const std::string& arch) {
    return cache.derived_path("packages", fmt::format("{}_{}_{}", name, version, arch));
}

} // namespace

std::string label(const Record& record) {
    return fmt::format("{} {}", record.name, record.version);
}

void remember_file(const core::Cache& cache, const Record& record) {
    const auto path = remembered_path(cache, record.name, record.version, record.arch);
    std::error_code error;
    if (!std::filesystem::exists(path, error)) {
        core::write_file_atomic(path, record.sha256);
    }
}

std::optional<std::string> remembered_file(const core::Cache& cache, const std::string& name,
                                           const std::string& version, const std::string& arch) {
    const auto path = remembered_path(cache, name, version, arch);
    std::error_code error;
    if (!std::filesystem::exists(path, error)) {
        return std::nullopt;
    }
    return core::read_file(path);
}

} // namespace distill::package
