#pragma once

#include <distill/resolve/solv/loader.hpp>

namespace distill::distro::debian {

/// Debian's way into libsolv's pool: Debian semantics (DISTTYPE_DEB: dpkg's version ordering,
/// Depends syntax with alternatives and architecture qualifiers) and Packages indexes, read
/// by libsolv's own parser while PackagesScan notes the fields it drops (Size, and Priority as
/// the package's rank among providers).
class PoolLoader final : public resolve::solv::IndexLoader {
public:
    void setup(s_Pool* pool) const override;
    void load(s_Pool* pool, s_Repo* repo, const std::filesystem::path& path,
              const std::string& served_as) const override;
    [[nodiscard]] std::string_view cache_format() const override;
};

} // namespace distill::distro::debian
