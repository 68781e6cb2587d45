#pragma once

#include <distill/resolve/solv/loader.hpp>

namespace distill::distro::alpine {

/// Loads APKINDEX.tar.gz files into a libsolv pool. This libsolv has no apk support, so the
/// loader adds each package itself through libsolv's handles, with apk's semantics expressed
/// in what the pool has: versions in an order-preserving Debian form (sortable_version()),
/// `~` constraints as a range, `!name` as a conflict, `install_if` as supplements, `k:` as the
/// rank among providers.
class PoolLoader final : public resolve::solv::IndexLoader {
public:
    void setup(s_Pool* pool) const override;
    void set_arch(s_Pool* pool, const std::string& arch) const override;
    void load(s_Pool* pool, s_Repo* repo, const std::filesystem::path& path,
              const std::string& served_as) const override;
    [[nodiscard]] int request_dep(s_Pool* pool, const std::string& name,
                                  const std::string& relation,
                                  const std::string& version) const override;
    [[nodiscard]] std::string to_pool_version(std::string_view version) const override;
    [[nodiscard]] std::string from_pool_version(std::string_view evr) const override;
    [[nodiscard]] bool installs_supplements() const override { return true; }
    [[nodiscard]] std::string_view cache_format() const override;
};

} // namespace distill::distro::alpine
