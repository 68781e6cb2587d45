#include <algorithm>
#include <cerrno>
#include <charconv>
#include <set>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>

#include <distill/core/archive.hpp>
#include <distill/core/digest.hpp>
#include <distill/core/error.hpp>
#include <distill/core/fs.hpp>
#include <distill/core/gzip.hpp>
#include <distill/core/text.hpp>
#include <distill/distro/alpine/apk.hpp>
#include <distill/distro/alpine/signature.hpp>
#include <distill/unpack/tar.hpp>

namespace distill::distro::alpine {
namespace {

using unpack::UnsafeContentError;

/// An .apk is a signature, a control and a data member; one more is read only to refuse it.
constexpr std::size_t k_members = 3;
/// Install scripts are small shell scripts; anything bigger is not a sane package.
constexpr std::uint64_t k_max_script = 8U << 20U;
/// What a member's tar may leave unread at its end (end-of-archive blocks, record padding).
constexpr std::uint64_t k_max_slack = 1U << 20U;

/// Reads a whole decimal number; false when `text` is anything else.
template <typename Number>
bool parse_number(std::string_view text, Number& out) {
    const auto* end = text.data() + text.size();
    const auto [stop, error] = std::from_chars(text.data(), end, out);
    return !text.empty() && error == std::errc() && stop == end;
}

/// One .apk being read into a package's content.
class ApkUnpacker {
public:
    ApkUnpacker(const unpack::Input& input, unpack::PackageFile& file, unpack::PackWriter& pack,
                unpack::UnpackedPackage& package)
        : m_input(input)
        , m_label(input.label)
        , m_file(file)
        , m_pack(pack)
        , m_package(package)
        , m_members([this](std::span<char> buffer) { return m_file.read(buffer); }, m_label,
                    k_members + 1) {}

    void run() {
        if (!m_members.next_member()) {
            throw Error(fmt::format("{}: not a valid .apk: the file is empty", m_label));
        }
        read_signatures();

        if (!m_members.next_member(k_max_slack)) {
            throw missing("control");
        }
        core::Hasher identity(core::HashAlgorithm::sha1);
        m_members.hash_raw(identity);
        read_control();
        const bool data_follows = m_members.next_member(k_max_slack);
        // The control member is checked before anything of the data is read.
        check_identity(apk_checksum(identity.raw_digest()));
        if (!data_follows) {
            throw missing("data");
        }
        core::Hasher datahash;
        m_members.hash_raw(datahash);
        read_data();
        const bool more = m_members.next_member(k_max_slack);
        if (const auto actual = datahash.hex_digest(); actual != m_info.datahash) {
            throw VerificationError(
                fmt::format("{}: the data member's SHA-256 is {}, its .PKGINFO datahash says {}",
                            m_label, actual, m_info.datahash));
        }
        if (more) {
            // apk stops at the data member: whatever follows it nobody checks.
            throw UnsafeContentError(fmt::format("{}: not a valid .apk: a gzip member follows "
                                                 "the data member; refusing the package",
                                                 m_label));
        }
    }

private:
    [[nodiscard]] UnsafeContentError missing(std::string_view member) const {
        return UnsafeContentError(fmt::format("{}: not a valid .apk: it has no {} member (an "
                                              ".apk is three gzip members: signature, control, "
                                              "data)",
                                              m_label, member));
    }

    [[nodiscard]] core::TarStream open_tar(std::string_view member) {
        return {[this](std::span<char> buffer) { return m_members.read(buffer); },
                core::TarStream::Filters::none, fmt::format("{}: {} member", m_label, member)};
    }

    /// The first member holds the signatures, nothing else. They are not checked here: the
    /// index that named the package vouches for its control member through `C:`.
    void read_signatures() {
        auto tar = open_tar("signature");
        bool any = false;
        while (archive_entry* entry = tar.next()) {
            const auto name = unpack::entry_path(entry, m_label, "signature member");
            if (!name.starts_with(".SIGN.") || archive_entry_filetype(entry) != AE_IFREG) {
                throw UnsafeContentError(fmt::format(
                    "{}: not a valid .apk: its first gzip member holds `{}`, not a signature; "
                    "refusing the package",
                    m_label, core::printable(name)));
            }
            any = true;
        }
        if (!any) {
            throw UnsafeContentError(fmt::format(
                "{}: not a valid .apk: its first gzip member holds no signature", m_label));
        }
    }

    void read_control() {
        auto tar = open_tar("control");
        std::set<std::string> seen;
        const auto& scripts = install_scripts();
        while (archive_entry* entry = tar.next()) {
            const auto name = unpack::entry_path(entry, m_label, "control member");
            unpack::check_entry_name(m_label, "control member", name);
            // apk takes the first name that is not a dot file at the top as the start of the
            // data: in the control member, that would be data nobody's hash covers.
            if (!name.starts_with('.') || name.find('/') != std::string::npos) {
                throw UnsafeContentError(fmt::format(
                    "{}: the control member holds `{}`, which is data; an .apk carries its data "
                    "in the third gzip member; refusing the package",
                    m_label, core::printable(name)));
            }
            if (name == ".INSTALL") {
                throw UnsafeContentError(fmt::format(
                    "{}: the control member holds an old-style .INSTALL script, which apk "
                    "refuses; refusing the package",
                    m_label));
            }
            const bool script = std::find(scripts.begin(), scripts.end(), name) != scripts.end();
            if (name != ".PKGINFO" && !script) {
                continue; // other control files (.melange.yaml) are not the database's
            }
            if (archive_entry_filetype(entry) != AE_IFREG) {
                throw UnsafeContentError(fmt::format(
                    "{}: the control member's `{}` is a {}, not a file; refusing the package",
                    m_label, name, unpack::to_string(unpack::entry_type(entry))));
            }
            if (!seen.insert(name).second) {
                // Two .PKGINFO would describe two packages in one.
                throw UnsafeContentError(
                    fmt::format("{}: the control member holds `{}` twice; refusing the package",
                                m_label, name));
            }
            if (script) {
                m_package.scripts[name] = unpack::read_entry_text(tar, entry, name, k_max_script);
            } else {
                m_package.control = unpack::read_entry_text(tar, entry, name, k_max_pkginfo);
            }
        }
        if (!seen.contains(".PKGINFO")) {
            throw UnsafeContentError(
                fmt::format("{}: not a valid .apk: its control member holds no .PKGINFO", m_label));
        }
        m_info = parse_pkginfo(m_package.control, m_label + ": .PKGINFO");
        if (m_info.datahash.empty()) {
            throw VerificationError(fmt::format(
                "{}: its .PKGINFO gives no datahash, so nothing vouches for its data", m_label));
        }
        m_package.date = m_info.builddate;
    }

    void check_identity(const std::string& actual) const {
        if (!m_input.identity.empty() && actual != m_input.identity) {
            throw VerificationError(fmt::format("{}: the control member's checksum is {}, the "
                                                "index's C: says {}",
                                                m_label, actual, m_input.identity));
        }
    }

    void read_data() {
        auto tar = open_tar("data");
        const unpack::DataArchive data{
            "data member", "apk", m_file.size(), [this](const unpack::RawEntry& entry) {
                const auto name = unpack::strip_dot_slash(entry.path);
                if (name == ".PKGINFO" || name.starts_with(".SIGN")) {
                    throw UnsafeContentError(fmt::format(
                        "{}: the data member holds `{}`, a name apk keeps for control data; "
                        "refusing the package",
                        m_label, core::printable(entry.path)));
                }
            }};
        unpack::read_data_archive(tar, data, m_input, m_pack, m_package);
    }

    const unpack::Input& m_input;
    const std::string& m_label;
    unpack::PackageFile& m_file;
    unpack::PackWriter& m_pack;
    unpack::UnpackedPackage& m_package;
    core::GzipMembers m_members;
    PkgInfo m_info;
};

} // namespace

const std::vector<std::string_view>& install_scripts() {
    static const std::vector<std::string_view> names{
        ".pre-install",   ".post-install",   ".pre-upgrade", ".post-upgrade",
        ".pre-deinstall", ".post-deinstall", ".trigger"};
    return names;
}

PkgInfo parse_pkginfo(std::string_view text, std::string_view origin) {
    if (text.size() > k_max_pkginfo) {
        throw Error(fmt::format("{}: larger than {} bytes", origin, k_max_pkginfo));
    }
    PkgInfo info;
    std::set<std::string_view> seen;
    std::size_t line_number = 0;
    while (!text.empty()) {
        const auto end = text.find('\n');
        const std::string_view line = text.substr(0, end);
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
        ++line_number;
        if (line.empty() || line.front() == '#') {
            continue;
        }
        const auto equals = line.find(" = ");
        if (equals == std::string_view::npos) {
            continue; // as apk does
        }
        const std::string_view key = line.substr(0, equals);
        const std::string_view value = line.substr(equals + 3);
        const auto bad = [&](std::string_view why) {
            return Error(fmt::format("{}:{}: {} `{}` {}", origin, line_number, key,
                                     core::printable(value), why));
        };
        if (key == "license") {
            info.licenses.emplace_back(value);
        }
        std::vector<std::string>* list = key == "depend"       ? &info.depends
                                         : key == "provides"   ? &info.provides
                                         : key == "replaces"   ? &info.replaces
                                         : key == "install_if" ? &info.install_if
                                         : key == "triggers"   ? &info.triggers
                                                               : nullptr;
        if (list != nullptr) {
            list->emplace_back(value);
            continue;
        }
        std::string* field = key == "pkgname"      ? &info.pkgname
                             : key == "pkgver"     ? &info.pkgver
                             : key == "pkgdesc"    ? &info.pkgdesc
                             : key == "url"        ? &info.url
                             : key == "packager"   ? &info.packager
                             : key == "arch"       ? &info.arch
                             : key == "origin"     ? &info.origin
                             : key == "commit"     ? &info.commit
                             : key == "maintainer" ? &info.maintainer
                             : key == "license"    ? &info.license
                             : key == "datahash"   ? &info.datahash
                                                   : nullptr;
        const bool number = key == "size" || key == "builddate";
        if (field == nullptr && !number) {
            continue;
        }
        const bool identifies =
            number || key == "pkgname" || key == "pkgver" || key == "arch" || key == "datahash";
        if (identifies && !seen.insert(key).second) {
            throw Error(fmt::format("{}:{}: a second `{}` line", origin, line_number, key));
        }
        if (key == "size" && !parse_number(value, info.size)) {
            throw bad("is not a size in bytes");
        }
        if (key == "builddate" && !parse_number(value, info.builddate)) {
            throw bad("is not a time in seconds");
        }
        if (key == "datahash" && !core::is_sha256_hex(value)) {
            throw bad("is not a SHA-256 in lowercase hex");
        }
        if (field != nullptr) {
            *field = value;
        }
    }
    return info;
}

void check_package_file(const std::filesystem::path& path, std::string_view identity,
                        std::string_view label) {
    const std::string origin(label);
    const auto fd = core::open_read(path);
    core::GzipMembers members(
        [&](std::span<char> buffer) {
            for (;;) {
                const auto got = ::read(fd.get(), buffer.data(), buffer.size());
                if (got >= 0) {
                    return static_cast<std::size_t>(got);
                }
                if (errno != EINTR) {
                    throw Error(fmt::format("{}: {}", origin, core::errno_text(errno)));
                }
            }
        },
        origin, k_members + 1);
    const auto not_an_apk = [&](std::string_view why) {
        return VerificationError(fmt::format("{}: not a valid .apk: {}", origin, why));
    };
    // The signature member is skipped: the index vouches for the package through `C:`.
    if (!members.next_member() || !members.next_member(k_max_slack)) {
        throw not_an_apk("it has no control member");
    }
    core::Hasher control_sha1(core::HashAlgorithm::sha1);
    members.hash_raw(control_sha1);
    std::string pkginfo;
    {
        core::TarStream tar([&](std::span<char> buffer) { return members.read(buffer); },
                            core::TarStream::Filters::none, origin + ": control member");
        while (archive_entry* entry = tar.next()) {
            const auto name = unpack::entry_path(entry, origin, "control member");
            if (name == ".PKGINFO" && archive_entry_filetype(entry) == AE_IFREG) {
                pkginfo = unpack::read_entry_text(tar, entry, name, k_max_pkginfo);
            }
        }
    }
    const bool data = members.next_member(k_max_slack);
    if (const auto actual = apk_checksum(control_sha1.raw_digest()); actual != identity) {
        throw VerificationError(
            fmt::format("{}: the control member's checksum is {}, the index's C: says {}", origin,
                        actual, identity));
    }
    const auto info = parse_pkginfo(pkginfo, origin + ": .PKGINFO");
    if (!data || info.datahash.empty()) {
        throw not_an_apk(data ? "its .PKGINFO gives no datahash" : "it has no data member");
    }
    core::Hasher data_sha256;
    members.hash_raw(data_sha256);
    if (members.next_member()) {
        throw not_an_apk("a gzip member follows the data member");
    }
    if (const auto actual = data_sha256.hex_digest(); actual != info.datahash) {
        throw VerificationError(
            fmt::format("{}: the data member's SHA-256 is {}, its .PKGINFO datahash says {}",
                        origin, actual, info.datahash));
    }
}

void ApkReader::read(const unpack::Input& input, unpack::PackageFile& file,
                     unpack::PackWriter& pack, unpack::UnpackedPackage& package) const {
    ApkUnpacker(input, file, pack, package).run();
}

} // namespace distill::distro::alpine
