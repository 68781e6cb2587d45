#include <algorithm>
#include <array>
#include <cctype>
#include <sys/utsname.h>

#include <fmt/format.h>

#include <distill/core/error.hpp>
#include <distill/distro/arch.hpp>

namespace distill::distro {
namespace {

using manifest::Distro;

// One row per architecture a distro builds for. The kernel's name is given where distill knows
// a host of that architecture by it; an image may still be built for the others.
constexpr std::array<Arch, 17> k_archs{{
    {Distro::debian, "amd64", "amd64", "", "x86_64"},
    {Distro::debian, "arm64", "arm64", "v8", "aarch64"},
    {Distro::debian, "armhf", "arm", "v7", "armv7l"},
    {Distro::debian, "armel", "arm", "v5", ""},
    {Distro::debian, "i386", "386", "", "i686"},
    {Distro::debian, "ppc64el", "ppc64le", "", "ppc64le"},
    {Distro::debian, "s390x", "s390x", "", "s390x"},
    {Distro::debian, "riscv64", "riscv64", "", "riscv64"},
    {Distro::debian, "mips64el", "mips64le", "", ""},
    {Distro::alpine, "x86_64", "amd64", "", "x86_64"},
    {Distro::alpine, "aarch64", "arm64", "v8", "aarch64"},
    {Distro::alpine, "armv7", "arm", "v7", "armv7l"},
    {Distro::alpine, "armhf", "arm", "v6", ""},
    {Distro::alpine, "x86", "386", "", "i686"},
    {Distro::alpine, "ppc64le", "ppc64le", "", "ppc64le"},
    {Distro::alpine, "s390x", "s390x", "", "s390x"},
    {Distro::alpine, "riscv64", "riscv64", "", "riscv64"},
}};

} // namespace

std::span<const Arch> arch_table() {
    return k_archs;
}

std::vector<std::string_view> arch_names(Distro distro) {
    std::vector<std::string_view> names;
    for (const auto& arch : k_archs) {
        if (arch.distro == distro) {
            names.push_back(arch.name);
        }
    }
    return names;
}

const Arch* find_arch(Distro distro, std::string_view name) {
    const auto found = std::find_if(k_archs.begin(), k_archs.end(), [&](const Arch& arch) {
        return arch.distro == distro && arch.name == name;
    });
    return found == k_archs.end() ? nullptr : &*found;
}

const Arch* same_machine(const Arch& arch, Distro distro) {
    const auto found = std::find_if(k_archs.begin(), k_archs.end(), [&](const Arch& other) {
        return other.distro == distro && other.oci == arch.oci && other.variant == arch.variant;
    });
    return found == k_archs.end() ? nullptr : &*found;
}

std::string arch_for_platform(Distro distro, std::string_view oci, std::string_view variant) {
    const Arch* same_architecture = nullptr;
    for (const auto& arch : k_archs) {
        if (arch.distro != distro || arch.oci != oci) {
            continue;
        }
        if (arch.variant == variant) {
            return std::string(arch.name);
        }
        if (same_architecture == nullptr) {
            same_architecture = &arch;
        }
    }
    return std::string(same_architecture != nullptr ? same_architecture->name : oci);
}

std::string host_arch(Distro distro) {
    utsname name{};
    if (::uname(&name) != 0) {
        throw Error("cannot tell the host's architecture (uname failed)");
    }
    const std::string_view machine = name.machine;
    for (const auto& arch : k_archs) {
        if (arch.distro == distro && arch.kernel == machine) {
            return std::string(arch.name);
        }
    }
    throw Error(
        fmt::format("unknown host architecture {}; name one in the manifest's archs", machine));
}

std::string display_name(Distro distro) {
    std::string name = manifest::to_string(distro);
    if (!name.empty()) {
        name.front() = static_cast<char>(std::toupper(static_cast<unsigned char>(name.front())));
    }
    return name;
}

} // namespace distill::distro
