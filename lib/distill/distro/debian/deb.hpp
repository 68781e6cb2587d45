#pragma once

#include <vector>

#include <distill/core/cache.hpp>
#include <distill/core/reporter.hpp>
#include <distill/unpack/package.hpp>
#include <distill/unpack/unpack.hpp>

namespace distill::distro::debian {

// The package content types, as the users of the .deb reader name them.
using unpack::EntryType;
using unpack::Limits;
using unpack::RawEntry;
using unpack::UnpackedPackage;
using unpack::UnsafeContentError;

/// A .deb to unpack.
using DebInput = unpack::Input;

/// Reads a .deb (ar archive: debian-binary, control.tar[.gz|.xz|.zst], data.tar[.gz|.xz|.zst|
/// .bz2]) by streaming it through libarchive: the control file, md5sums, conffiles and the
/// maintainer scripts that run at install time (install_scripts()), and the data archive's
/// entries.
class DebReader final : public unpack::Reader {
public:
    void read(const unpack::Input& input, unpack::PackageFile& file, unpack::PackWriter& pack,
              UnpackedPackage& package) const override;
};

/// unpack::unpack() with the DebReader: the cached form, or the .deb read into a new content
/// pack.
[[nodiscard]] UnpackedPackage unpack_deb(const DebInput& input, const core::Cache& cache);

/// unpack::unpack_all() with the DebReader.
[[nodiscard]] std::vector<UnpackedPackage> unpack_all(const std::vector<DebInput>& inputs,
                                                      const core::Cache& cache, int jobs,
                                                      core::Reporter& reporter);

} // namespace distill::distro::debian
