#include <mutex>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <distill/core/cancel.hpp>
#include <distill/core/digest.hpp>
#include <distill/core/parallel.hpp>
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

nlohmann::json to_json(const UnpackedPackage& package) {
    nlohmann::json entries = nlohmann::json::array();
    for (const auto& e : package.entries) {
        entries.push_back({e.path, static_cast<int>(e.type), e.mode, e.uid, e.gid, e.link, e.size,
                           e.offset, e.sha256, e.md5});
    }
    return {{"format", k_format},
            {"control", package.control},
            {"md5sums", package.md5sums},
            {"conffiles", package.conffiles},
            {"scripts", package.scripts},
            {"date", package.date},
            {"unpacked_bytes", package.unpacked_bytes},
            {"entries", std::move(entries)}};
}

/// The cached form, when it is present and complete; nullopt otherwise (it is then rebuilt).
std::optional<UnpackedPackage> load_cached(const Input& input, const core::Cache& cache) {
    const auto index = cache.derived_path("unpacked", input.sha256 + ".json");
    const auto pack = cache.derived_path("unpacked", input.sha256 + ".pack");
    std::error_code error;
    if (!fs::exists(index, error)) {
        return std::nullopt;
    }
    try {
        const auto json = nlohmann::json::parse(core::read_file(index));
        if (json.at("format").get<int>() != k_format) {
            return std::nullopt;
        }
        UnpackedPackage package;
        package.control = json.at("control").get<std::string>();
        package.md5sums = json.at("md5sums").get<std::string>();
        package.conffiles = json.at("conffiles").get<std::string>();
        package.scripts = json.at("scripts").get<std::map<std::string, std::string>>();
        package.date = json.at("date").get<std::int64_t>();
        package.unpacked_bytes = json.at("unpacked_bytes").get<std::uint64_t>();
        if (fs::file_size(pack, error) != package.unpacked_bytes || error) {
            return std::nullopt;
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
    } catch (const std::exception&) {
        return std::nullopt; // unreadable: unpack again
    }
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
    core::AtomicFile pack(cache.derived_path("unpacked", input.sha256 + ".pack"));
    PackWriter writer(pack, input, package);
    reader.read(input, writer, package);
    // The pack first, then the index that names it: a reader that finds the index finds a
    // complete pack.
    const fs::path pack_path = pack.destination();
    pack.commit();
    package.pack = pack_path;
    core::write_file_atomic(cache.derived_path("unpacked", input.sha256 + ".json"),
                            to_json(package).dump());
    return package;
}

std::vector<UnpackedPackage> unpack_all(const std::vector<Input>& inputs, const Reader& reader,
                                        const core::Cache& cache, int jobs,
                                        core::Reporter& reporter) {
    std::vector<UnpackedPackage> out(inputs.size());
    std::mutex report_mutex; // reporters draw on one terminal and are not thread-safe
    std::uint64_t done = 0;
    core::parallel_for(inputs.size(), jobs, [&](std::size_t i) {
        out[i] = unpack(inputs[i], reader, cache);
        const std::lock_guard lock(report_mutex);
        reporter.progress("unpacking", ++done, inputs.size());
    });
    return out;
}

} // namespace distill::unpack
