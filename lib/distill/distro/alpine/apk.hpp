#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <distill/unpack/package.hpp>
#include <distill/unpack/unpack.hpp>

namespace distill::distro::alpine {

/// What an .apk's `.PKGINFO` says of the package: `key = value` lines, `#` comments.
struct PkgInfo {
    std::string pkgname;
    std::string pkgver;
    std::string pkgdesc;
    std::string url;
    std::int64_t builddate = 0; ///< seconds since the epoch
    std::string packager;
    std::uint64_t size = 0; ///< installed size in bytes
    std::string arch;
    std::string origin; ///< the source package
    std::string commit; ///< the aports commit it was built from
    std::string maintainer;
    std::string license;                 ///< the last `license` line, as apk keeps it
    std::vector<std::string> licenses;   ///< every `license` line (melange writes one each)
    std::string datahash;                ///< hex SHA-256 of the data member's compressed bytes
    std::vector<std::string> depends;    ///< `depend` lines, in order
    std::vector<std::string> provides;   ///< `provides` lines, in order
    std::vector<std::string> replaces;   ///< `replaces` lines, in order
    std::vector<std::string> install_if; ///< `install_if` lines, in order
    std::vector<std::string> triggers;   ///< `triggers` lines, in order
};

/// The most bytes a `.PKGINFO` may have.
constexpr std::size_t k_max_pkginfo = 1U << 20U;

/// Parses a `.PKGINFO` text. Lines that are not `key = value` are skipped, as apk skips them,
/// and so are keys it does not name; of a repeated descriptive key (pkgdesc, url, license, ...)
/// the last line counts, as in apk. An Error naming `origin` and the line for a second line of
/// what identifies the package or its data (pkgname, pkgver, arch, size, builddate, datahash:
/// two `pkgname` lines would make the package two things), a size or builddate that is not a
/// number, a datahash that is not 64 hex digits, or a text longer than k_max_pkginfo.
[[nodiscard]] PkgInfo parse_pkginfo(std::string_view text, std::string_view origin);

/// The install scripts an .apk's control member may hold, by their names there
/// (".pre-install", ".post-install", ...); apk runs them, distill never does.
[[nodiscard]] const std::vector<std::string_view>& install_scripts();

/// Reads an apk v2 package (.apk) by streaming it through zlib and libarchive: three gzip
/// members, in this order, and nothing after them:
/// 1. the signature (a tar of `.SIGN.*` entries only; not verified here: the index that named
///    the package vouches for it through `C:`),
/// 2. the control tar: `.PKGINFO` into UnpackedPackage::control (builddate into `date`), the
///    install scripts into `scripts` by name; its compressed bytes' SHA-1 must give
///    `input.identity` (the index's `C:`) when that is set,
/// 3. the data tar: entries and pack bytes under the same rules as a .deb's data.tar; the
///    SHA-256 of its compressed bytes must equal `.PKGINFO`'s datahash.
/// A mismatch is a core VerificationError naming the package and both values; another number
/// of members, data in the control member, a second `.PKGINFO` or a `.SIGN*` or `.PKGINFO`
/// name among the data are an UnsafeContentError.
class ApkReader final : public unpack::Reader {
public:
    void read(const unpack::Input& input, unpack::PackageFile& file, unpack::PackWriter& pack,
              unpack::UnpackedPackage& package) const override;
};

/// Checks a downloaded .apk against the index's checksum `identity` (its `C:`): the SHA-1 of
/// its control member's compressed bytes, and the SHA-256 of its data member's against the
/// datahash the control member gives, streaming the file once without unpacking its data.
/// A VerificationError naming `label` when either differs or the file is no .apk.
void check_package_file(const std::filesystem::path& path, std::string_view identity,
                        std::string_view label);

} // namespace distill::distro::alpine
