#include <fmt/format.h>

#include <distill/core/fs.hpp>
#include <distill/image/layout.hpp>
#include <distill/image/output.hpp>
#include <distill/pipeline/pipeline.hpp>

namespace distill::pipeline {
namespace fs = std::filesystem;

VerifyResult verify(Session& session, const fs::path& layout, const manifest::Loaded& loaded,
                    const BuildSettings& settings, const Explain& explain) {
    VerifyResult result;
    const auto expected = image::existing_digest(layout);
    if (!expected || !fs::is_directory(layout)) {
        throw Error(fmt::format("{}: not an OCI image layout", layout.string()));
    }
    result.expected = *expected;
    BuildSettings rebuild = settings;
    rebuild.lock.mode = LockMode::frozen; // exactly what the lock says, or nothing
    rebuild.format = OutputFormat::layout;
    // The layer is compressed as the original was.
    const auto media_type = image::Layout::open(layout).images().front().layers.at(0).media_type;
    rebuild.compression =
        media_type.ends_with("+zstd") ? image::Compression::zstd : image::Compression::gzip;
    core::remove_stale(fs::absolute(layout).parent_path(), ".distill-verify-");
    const core::TempDir scratch(".distill-verify-", fs::absolute(layout).parent_path());
    rebuild.output = scratch.path() / "rebuild";
    const auto built = build(session, loaded, rebuild);
    result.actual = built.digest;
    if (!result.reproduced()) {
        result.difference = explain(layout, rebuild.output);
    }
    return result;
}

} // namespace distill::pipeline
