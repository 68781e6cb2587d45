#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <distill/core/cancel.hpp>
#include <distill/core/digest.hpp>
#include <distill/core/parallel.hpp>
#include <distill/core/text.hpp>
#include <distill/unpack/unpack.hpp>

namespace distill::unpack {
namespace {

namespace fs = std::filesystem;

/// Bumped whenever the cached form changes meaning, so that old entries are not misread (3: made
/// only by readers that refuse smuggled members and control characters in names).
constexpr int k_format = 3;
/// The ratio bound starts counting past this many bytes.
constexpr std::uint64_t k_ratio_grace = 64U << 20U;
constexpr std::size_t k_chunk = 256U << 10U;

nlohmann::json to_json(const UnpackedPackage& package, const std::string& sha256) {
    nlohmann::json entries = nlohmann::json::array();
    for (const auto& e : package.entries) {
        entries.push_back({e.path, static_cast<int>(e.type), e.mode, e.uid, e.gid, e.link, e.size,
                           e.offset, e.sha256, e.md5});
    }
    return {{"format", k_format},
            {"package_sha256", sha256},
            {"control", package.control},
            {"md5sums", package.md5sums},
            {"conffiles", package.conffiles},
            {"scripts", package.scripts},
            {"date", package.date},
            {"unpacked_bytes", package.unpacked_bytes},
            {"entries", std::move(entries)}};
}

/// The digest an index records of itself: the SHA-256 of the rest of the document. An index
/// whose digest does not check out is damaged, not merely old: its offsets, sizes, modes and
/// paths would go into the image unchecked (the layer only re-checks the file bytes).
std::string index_digest(nlohmann::json document) {
    document.erase("digest");
    return core::sha256_hex(document.dump());
}

fs::path index_path(const Input& input, const core::Cache& cache) {
    return cache.derived_path("unpacked", input.sha256 + ".json");
}

fs::path pack_path(const Input& input, const core::Cache& cache) {
    return cache.derived_path("unpacked", input.sha256 + ".pack");
}

core::CacheDamageError damaged_index(const Input& input, const fs::path& index,
                                     std::string_view why) {
    return {fmt::format("{}: the cached unpacked copy {} is damaged: {}", input.label,
                        index.string(), why),
            index};
}

/// The cached form, when it is present and of this format; nullopt otherwise (it is then
/// rebuilt). An index of this format that does not check out is a CacheDamageError.
std::optional<UnpackedPackage> load_cached(const Input& input, const core::Cache& cache) {
    const auto index = index_path(input, cache);
    const auto pack = pack_path(input, cache);
    std::error_code error;
    if (!fs::exists(index, error)) {
        return std::nullopt;
    }
    nlohmann::json json;
    try {
        json = nlohmann::json::parse(core::read_file(index));
        if (json.at("format").get<int>() != k_format) {
            return std::nullopt;
        }
    } catch (const std::exception&) {
        throw damaged_index(input, index, "not an index of this version");
    }
    if (!json.contains("digest") || json.at("digest") != index_digest(json)) {
        throw damaged_index(input, index, "its digest does not match its content");
    }
    try {
        if (json.at("package_sha256").get<std::string>() != input.sha256) {
            throw damaged_index(input, index, "it was made from another package file");
        }
        UnpackedPackage package;
        package.control = json.at("control").get<std::string>();
        package.md5sums = json.at("md5sums").get<std::string>();
        package.conffiles = json.at("conffiles").get<std::string>();
        package.scripts = json.at("scripts").get<std::map<std::string, std::string>>();
        package.date = json.at("date").get<std::int64_t>();
        package.unpacked_bytes = json.at("unpacked_bytes").get<std::uint64_t>();
        if (fs::file_size(pack, error) != package.unpacked_bytes || error) {
            throw damaged_index(input, pack, "the content pack is missing or of another size");
        }
        for (const auto& e : json.at("entries")) {
            RawEntry raw;
            raw.path = e.at(0).get<std::string>();
            raw.type = static_cast<EntryType>(e.at(1).get<int>());
            raw.mode = e.at(2).get<std::uint32_t>();
            raw.uid = e.at(3).get<std::uint32_t>();
            raw.gid = e.at(4).get<std::uint32_t>();
            raw.link = e.at(5).get<std::string>();
            raw.size = e.at(6).get<std::uint64_t>();
            raw.offset = e.at(7).get<std::uint64_t>();
            raw.sha256 = e.at(8).get<std::string>();
            raw.md5 = e.at(9).get<std::string>();
            package.entries.push_back(std::move(raw));
        }
        package.pack = pack;
        return package;
    } catch (const core::CacheDamageError&) {
        throw;
    } catch (const std::exception&) {
        throw damaged_index(input, index, "its entries do not read");
    }
}

/// Removes a damaged cache file; another process may have removed or replaced it already.
void drop(const fs::path& path) {
    std::error_code ignored;
    fs::remove(path, ignored);
}

} // namespace

const char* to_string(EntryType type) {
    switch (type) {
    case EntryType::file:
        return "file";
    case EntryType::directory:
        return "directory";
    case EntryType::symlink:
        return "symlink";
    case EntryType::hardlink:
        return "hard link";
    case EntryType::char_device:
        return "character device";
    case EntryType::block_device:
        return "block device";
    case EntryType::fifo:
        return "FIFO";
    case EntryType::socket:
        return "socket";
    }
    return "entry";
}

PackageFile::PackageFile(const Input& input)
    : m_input(input) {
    try {
        m_fd = core::open_read(input.path);
    } catch (const Error& error) {
        throw Error(fmt::format("{}: {}", input.label, error.what()));
    }
}

std::size_t PackageFile::read(std::span<char> buffer) {
    for (;;) {
        const auto got = ::read(m_fd.get(), buffer.data(), buffer.size());
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            throw Error(fmt::format("{}: {}: {}", m_input.label, m_input.path.string(),
                                    std::strerror(errno)));
        }
        const auto bytes = static_cast<std::size_t>(got);
        m_hasher.update(std::as_bytes(buffer.first(bytes)));
        return bytes;
    }
}

std::uint64_t PackageFile::size() const {
    struct stat status {};
    if (::fstat(m_fd.get(), &status) != 0) {
        throw Error(
            fmt::format("{}: {}: {}", m_input.label, m_input.path.string(), std::strerror(errno)));
    }
    return static_cast<std::uint64_t>(status.st_size);
}

void PackageFile::verify() {
    std::vector<char> rest(k_chunk);
    while (read(std::span(rest)) != 0) {
    }
    if (const auto actual = m_hasher.hex_digest(); actual != m_input.sha256) {
        throw core::CacheDamageError(
            fmt::format("{}: the cached package file {} is damaged: its sha256 is {}, the "
                        "verified index says {}",
                        m_input.label, m_input.path.string(), actual, m_input.sha256),
            m_input.path);
    }
}

PackWriter::PackWriter(core::AtomicFile& file, const Input& input, UnpackedPackage& package)
    : m_file(file)
    , m_input(input)
    , m_package(package)
    , m_buffer(k_chunk) {}

void PackWriter::add_file(RawEntry& entry, std::uint64_t compressed, const Source& source) {
    core::Hasher sha256;
    core::Hasher md5(core::HashAlgorithm::md5);
    entry.offset = m_package.unpacked_bytes;
    for (;;) {
        const std::size_t got = source(std::span(m_buffer));
        if (got == 0) {
            break;
        }
        const auto bytes = std::as_bytes(std::span(m_buffer.data(), got));
        entry.size += bytes.size();
        m_package.unpacked_bytes += bytes.size();
        check_limits(compressed);
        sha256.update(bytes);
        md5.update(bytes);
        m_file.write(bytes);
    }
    entry.sha256 = sha256.hex_digest();
    entry.md5 = md5.hex_digest();
}

void PackWriter::check_limits(std::uint64_t compressed) const {
    const auto total = m_package.unpacked_bytes;
    const auto& limits = m_input.limits;
    if (limits.max_bytes != 0 && total > limits.max_bytes) {
        throw UnsafeContentError(
            fmt::format("{}: the data archive expands beyond {} bytes, far more than the index's "
                        "Installed-Size; refusing it",
                        m_input.label, limits.max_bytes));
    }
    if (total > k_ratio_grace && compressed != 0 && total / compressed > limits.max_ratio) {
        throw UnsafeContentError(fmt::format(
            "{}: the data archive expands more than {} times its compressed size ({} bytes); "
            "refusing it as a decompression bomb",
            m_input.label, limits.max_ratio, compressed));
    }
}

UnpackedPackage unpack(const Input& input, const Reader& reader, const core::Cache& cache) {
    if (auto cached = load_cached(input, cache)) {
        return std::move(*cached);
    }
    UnpackedPackage package;
    core::AtomicFile pack(pack_path(input, cache));
    PackWriter writer(pack, input, package);
    PackageFile file(input);
    try {
        reader.read(input, file, writer, package);
    } catch (const Error&) {
        // A damaged file explains a malformed package better than the reader's complaint (a
        // flipped byte in a compressed stream); an interrupted read is not worth finishing.
        if (!core::cancel_requested()) {
            file.verify();
        }
        throw;
    }
    file.verify();
    // The index is made before anything is committed: a package it cannot record leaves
    // nothing behind. Then the pack, then the index that names it: a reader that finds the
    // index finds a complete pack.
    for (const auto& entry : package.entries) {
        for (const auto* name : {&entry.path, &entry.link}) {
            if (!core::is_utf8(*name)) {
                throw Error(fmt::format("{}: data.tar: `{}` is not a UTF-8 file name", input.label,
                                        core::printable(*name)));
            }
        }
    }
    auto index = to_json(package, input.sha256);
    std::string text;
    try {
        index["digest"] = index_digest(index);
        text = index.dump();
    } catch (const nlohmann::json::exception&) {
        // Control data that is not UTF-8 (file names were checked above).
        throw Error(
            fmt::format("{}: control.tar: the control data is not UTF-8 text", input.label));
    }
    const fs::path pack_path = pack.destination();
    pack.commit();
    package.pack = pack_path;
    core::write_file_atomic(index_path(input, cache), text);
    return package;
}

std::vector<UnpackedPackage> unpack_all(const std::vector<Input>& inputs, const Reader& reader,
                                        const core::Cache& cache, int jobs,
                                        core::Reporter& reporter,
                                        std::vector<std::size_t>* damaged) {
    std::vector<UnpackedPackage> out(inputs.size());
    std::mutex report_mutex; // reporters draw on one terminal and are not thread-safe
    std::uint64_t done = 0;
    const auto warn = [&](const core::CacheDamageError& error, std::string_view remedy) {
        const std::lock_guard lock(report_mutex);
        reporter.warning(fmt::format("{}; {}", error.what(), remedy));
    };
    core::parallel_for(inputs.size(), jobs, [&](std::size_t i) {
        const auto& input = inputs[i];
        try {
            try {
                out[i] = unpack(input, reader, cache);
            } catch (const core::CacheDamageError& error) {
                if (error.path() == input.path) {
                    throw;
                }
                // The unpacked copy: made again from the package file, which is hashed then.
                warn(error, "making it again");
                drop(index_path(input, cache));
                drop(pack_path(input, cache));
                out[i] = unpack(input, reader, cache);
            }
        } catch (const core::CacheDamageError& error) {
            if (damaged == nullptr || error.path() != input.path) {
                throw;
            }
            warn(error, "fetching it again");
            drop(input.path);
            const std::lock_guard lock(report_mutex);
            damaged->push_back(i);
            return;
        }
        const std::lock_guard lock(report_mutex);
        reporter.progress("unpacking", ++done, inputs.size());
    });
    if (damaged != nullptr) {
        std::sort(damaged->begin(), damaged->end());
    }
    return out;
}

void drop_unpacked(const Input& input, const core::Cache& cache) {
    drop(index_path(input, cache));
    drop(pack_path(input, cache));
}

} // namespace distill::unpack
