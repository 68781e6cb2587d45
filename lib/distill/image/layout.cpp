#include <array>
#include <cerrno>
#include <fcntl.h>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>

#include <distill/core/digest.hpp>
#include <distill/core/fs.hpp>
#include <distill/core/path.hpp>
#include <distill/core/text.hpp>
#include <distill/image/layout.hpp>

namespace distill::image {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ByteSink = std::function<void(std::span<const std::byte>)>;
using ReadArchive = std::unique_ptr<archive, decltype(&archive_read_free)>;

constexpr std::size_t k_chunk = 1U << 16U;
/// Image indexes nest; real ones are one or two deep.
constexpr int k_max_depth = 8;

/// libarchive's message, which may be missing.
std::string archive_text(archive* reader) {
    const char* text = archive_error_string(reader);
    return text != nullptr ? text : "unknown libarchive error";
}

/// Bytes read in order, up to the end.
class Stream {
public:
    virtual ~Stream() = default;
    /// Fills the start of `buffer`; 0 at the end.
    virtual std::size_t read(std::span<std::byte> buffer) = 0;
};

class FileStream final : public Stream {
public:
    FileStream(core::Fd fd, fs::path path)
        : m_fd(std::move(fd))
        , m_path(std::move(path)) {}

    std::size_t read(std::span<std::byte> buffer) override {
        for (;;) {
            const ssize_t got = ::read(m_fd.get(), buffer.data(), buffer.size());
            if (got >= 0) {
                return static_cast<std::size_t>(got);
            }
            if (errno != EINTR) {
                throw Error(fmt::format("{}: {}", m_path.string(), core::errno_text(errno)));
            }
        }
    }

private:
    core::Fd m_fd;
    fs::path m_path;
};

/// A member of a tar archive, its reader positioned at it.
class MemberStream final : public Stream {
public:
    MemberStream(ReadArchive reader, std::string where)
        : m_reader(std::move(reader))
        , m_where(std::move(where)) {}

    std::size_t read(std::span<std::byte> buffer) override {
        const la_ssize_t got = archive_read_data(m_reader.get(), buffer.data(), buffer.size());
        if (got < 0) {
            throw Error(fmt::format("{}: {}", m_where, archive_text(m_reader.get())));
        }
        return static_cast<std::size_t>(got);
    }

private:
    ReadArchive m_reader;
    std::string m_where;
};

/// A blob's bytes as they are read, checked against its descriptor: never more than its size,
/// and, once read to the end (finish), exactly its size and its digest.
class VerifiedStream {
public:
    VerifiedStream(std::unique_ptr<Stream> stream, Descriptor blob, std::string where)
        : m_stream(std::move(stream))
        , m_blob(std::move(blob))
        , m_where(std::move(where)) {}

    std::size_t read(std::span<std::byte> buffer) {
        const std::size_t got = m_stream->read(buffer);
        m_read += got;
        if (m_read > m_blob.size) {
            throw VerificationError(fmt::format("{}: more than the {} bytes its descriptor says",
                                                m_where, m_blob.size));
        }
        m_hasher.update(std::span<const std::byte>(buffer.data(), got));
        return got;
    }

    /// Reads what is left and checks size and digest.
    void finish() {
        std::array<std::byte, k_chunk> rest{};
        while (read(rest) > 0) {
        }
        if (m_read != m_blob.size) {
            throw VerificationError(fmt::format("{}: {} bytes, but its descriptor says {}", m_where,
                                                m_read, m_blob.size));
        }
        const auto actual = "sha256:" + m_hasher.hex_digest();
        if (actual != m_blob.digest) {
            throw VerificationError(fmt::format("{}: the bytes hash to {}", m_where, actual));
        }
    }

    [[nodiscard]] const std::string& where() const noexcept { return m_where; }

private:
    std::unique_ptr<Stream> m_stream;
    Descriptor m_blob;
    std::string m_where;
    std::uint64_t m_read = 0;
    core::Hasher m_hasher;
};

/// The whole of a stream, refusing more than `limit` bytes.
std::string read_bounded(Stream& stream, std::uint64_t limit, const std::string& where) {
    std::string text;
    std::array<std::byte, k_chunk> buffer{};
    while (const std::size_t got = stream.read(buffer)) {
        if (text.size() + got > limit) {
            throw Error(fmt::format("{}: larger than the {} bytes a layout's document may have",
                                    where, limit));
        }
        text.append(reinterpret_cast<const char*>(buffer.data()), got);
    }
    return text;
}

json parse_json(const std::string& text, const std::string& where) {
    try {
        return json::parse(text);
    } catch (const json::exception& e) {
        throw Error(fmt::format("{}: not JSON: {}", where, e.what()));
    }
}

std::string string_field(const json& object, const char* key, const std::string& where) {
    const auto found = object.find(key);
    if (found == object.end() || !found->is_string()) {
        throw Error(fmt::format("{}: no `{}` string", where, key));
    }
    return found->get<std::string>();
}

/// A digest names a file: anything but "sha256:<64 lowercase hex digits>" is refused before
/// it can.
void check_digest(const std::string& digest, const std::string& where) {
    const auto colon = digest.find(':');
    if (colon == std::string::npos || digest.substr(0, colon) != "sha256") {
        throw Error(fmt::format("{}: digest `{}`: only sha256 digests are supported", where,
                                core::printable(digest)));
    }
    if (!core::is_sha256_hex(digest.substr(colon + 1))) {
        throw Error(fmt::format("{}: digest `{}` is not sha256:<64 lowercase hex digits>", where,
                                core::printable(digest)));
    }
}

/// The descriptor `value` describes.
ListedDescriptor parse_descriptor(const json& value, const std::string& where) {
    if (!value.is_object()) {
        throw Error(fmt::format("{}: not a descriptor object", where));
    }
    ListedDescriptor out;
    out.blob.media_type = string_field(value, "mediaType", where);
    out.blob.digest = string_field(value, "digest", where);
    check_digest(out.blob.digest, where);
    const auto size = value.find("size");
    if (size == value.end() || !size->is_number_unsigned()) {
        throw Error(fmt::format("{}: no `size` that is a non-negative integer", where));
    }
    out.blob.size = size->get<std::uint64_t>();
    if (const auto annotations = value.find("annotations"); annotations != value.end()) {
        if (!annotations->is_object()) {
            throw Error(fmt::format("{}: `annotations` is not an object", where));
        }
        for (const auto& [key, text] : annotations->items()) {
            if (!text.is_string()) {
                throw Error(fmt::format("{}: annotation `{}` is not a string", where, key));
            }
            out.annotations[key] = text.get<std::string>();
        }
    }
    if (const auto platform = value.find("platform"); platform != value.end()) {
        if (!platform->is_object()) {
            throw Error(fmt::format("{}: `platform` is not an object", where));
        }
        out.platform = Platform{string_field(*platform, "os", where + ": platform"),
                                string_field(*platform, "architecture", where + ": platform"),
                                platform->value("variant", "")};
    }
    return out;
}

bool is_index(std::string_view media_type) {
    return media_type == k_index_media_type ||
           media_type == "application/vnd.docker.distribution.manifest.list.v2+json";
}

bool is_manifest(std::string_view media_type) {
    return media_type == k_manifest_media_type ||
           media_type == "application/vnd.docker.distribution.manifest.v2+json";
}

/// The `manifests` of an index document, as descriptors.
std::vector<ListedDescriptor> listed_in(const json& index, const std::string& where) {
    const auto manifests = index.find("manifests");
    if (!index.is_object() || manifests == index.end() || !manifests->is_array()) {
        throw Error(fmt::format("{}: no `manifests` list", where));
    }
    std::vector<ListedDescriptor> out;
    for (std::size_t i = 0; i < manifests->size(); ++i) {
        out.push_back(
            parse_descriptor((*manifests)[i], fmt::format("{}: manifests[{}]", where, i)));
    }
    return out;
}

std::string blob_name(const Descriptor& blob) {
    // check_digest() holds every digest to sha256:<hex>, a stricter grammar than a path
    // component; the hex still passes the one check of file names made from outside data.
    return "blobs/sha256/" +
           core::safe_component(blob.digest.substr(blob.digest.find(':') + 1), "blob digest");
}

} // namespace

ListedDescriptor read_descriptor(const nlohmann::json& value, const std::string& where) {
    return parse_descriptor(value, where);
}

/// Where a layout's files are read from.
struct Layout::Source {
    virtual ~Source() = default;
    [[nodiscard]] virtual bool is_archive() const = 0;
    /// The file called `name` in the layout ("index.json", "blobs/sha256/<hex>"), or nullptr
    /// when there is none.
    [[nodiscard]] virtual std::unique_ptr<Stream> open(const std::string& name) const = 0;
};

namespace {

class DirectorySource final : public Layout::Source {
public:
    explicit DirectorySource(fs::path root)
        : m_root(std::move(root)) {}

    [[nodiscard]] bool is_archive() const override { return false; }

    [[nodiscard]] std::unique_ptr<Stream> open(const std::string& name) const override {
        const auto path = m_root / name;
        core::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd) {
            if (errno == ENOENT) {
                return nullptr;
            }
            throw Error(fmt::format("{}: {}", path.string(), core::errno_text(errno)));
        }
        struct stat status {};
        if (::fstat(fd.get(), &status) != 0 || !S_ISREG(status.st_mode)) {
            throw Error(fmt::format("{}: not a regular file", path.string()));
        }
        return std::make_unique<FileStream>(std::move(fd), path);
    }

private:
    fs::path m_root;
};

/// A tar of a layout: its members are found by name, reading the archive from its start each
/// time (libarchive skips the bytes of the members before by seeking).
class ArchiveSource final : public Layout::Source {
public:
    explicit ArchiveSource(fs::path path)
        : m_path(std::move(path)) {
        auto reader = open_reader();
        archive_entry* entry = nullptr;
        int result = ARCHIVE_OK;
        while ((result = archive_read_next_header(reader.get(), &entry)) == ARCHIVE_OK) {
            if (archive_entry_filetype(entry) == AE_IFREG) {
                m_members.insert(member_name(entry));
            }
        }
        if (result != ARCHIVE_EOF) {
            throw Error(fmt::format("{}: {}", m_path.string(), archive_text(reader.get())));
        }
    }

    [[nodiscard]] bool is_archive() const override { return true; }

    [[nodiscard]] std::unique_ptr<Stream> open(const std::string& name) const override {
        if (!m_members.contains(name)) {
            return nullptr;
        }
        auto reader = open_reader();
        archive_entry* entry = nullptr;
        int result = ARCHIVE_OK;
        while ((result = archive_read_next_header(reader.get(), &entry)) == ARCHIVE_OK) {
            if (archive_entry_filetype(entry) == AE_IFREG && member_name(entry) == name) {
                return std::make_unique<MemberStream>(std::move(reader),
                                                      fmt::format("{}: {}", m_path.string(), name));
            }
        }
        throw Error(fmt::format("{}: {}: {}", m_path.string(), name,
                                result == ARCHIVE_EOF ? "gone from the archive"
                                                      : archive_text(reader.get())));
    }

private:
    [[nodiscard]] ReadArchive open_reader() const {
        ReadArchive reader(archive_read_new(), &archive_read_free);
        if (!reader) {
            throw Error("cannot initialise libarchive");
        }
        archive_read_support_filter_all(reader.get());
        archive_read_support_format_tar(reader.get());
        if (archive_read_open_filename(reader.get(), m_path.c_str(), k_chunk) != ARCHIVE_OK) {
            throw Error(fmt::format("{}: {}", m_path.string(), archive_text(reader.get())));
        }
        return reader;
    }

    static std::string member_name(archive_entry* entry) {
        const char* name = archive_entry_pathname(entry);
        std::string_view text = name != nullptr ? name : "";
        while (text.starts_with("./")) {
            text.remove_prefix(2);
        }
        return std::string(text);
    }

    fs::path m_path;
    std::set<std::string> m_members;
};

/// A small file of the layout itself (oci-layout, index.json), parsed.
json read_document(const Layout::Source& source, const fs::path& layout, const std::string& name) {
    const auto where = fmt::format("{}: {}", layout.string(), name);
    const auto stream = source.open(name);
    if (!stream) {
        throw Error(fmt::format("{}: no {}: not an OCI image layout", layout.string(), name));
    }
    return parse_json(read_bounded(*stream, k_max_document_size, where), where);
}

} // namespace

Layout::Layout(fs::path path, std::unique_ptr<Source> source)
    : m_path(std::move(path))
    , m_source(std::move(source)) {}

Layout::~Layout() = default;
Layout::Layout(Layout&&) noexcept = default;
Layout& Layout::operator=(Layout&&) noexcept = default;

Layout Layout::open(const fs::path& path) {
    std::error_code error;
    std::unique_ptr<Source> source;
    if (fs::is_directory(path, error)) {
        source = std::make_unique<DirectorySource>(path);
    } else if (fs::is_regular_file(path, error)) {
        source = std::make_unique<ArchiveSource>(path);
    } else {
        throw Error(fmt::format("{}: no such OCI image layout or archive", path.string()));
    }
    Layout layout(path, std::move(source));
    const auto marker = read_document(*layout.m_source, path, "oci-layout");
    if (!marker.is_object() || !marker.contains("imageLayoutVersion") ||
        !marker["imageLayoutVersion"].is_string()) {
        throw Error(fmt::format("{}: oci-layout: no imageLayoutVersion", path.string()));
    }
    const auto where = fmt::format("{}: index.json", path.string());
    const auto index = read_document(*layout.m_source, path, "index.json");
    const auto version = index.is_object() ? index.find("schemaVersion") : index.end();
    if (version == index.end() || *version != 2) {
        throw Error(fmt::format("{}: not an image index of schemaVersion 2", where));
    }
    layout.m_index = listed_in(index, where);
    return layout;
}

bool Layout::is_archive() const noexcept {
    return m_source->is_archive();
}

const ListedDescriptor& Layout::top() const {
    if (m_index.empty()) {
        throw Error(fmt::format("{}: index.json lists no image", m_path.string()));
    }
    return m_index.front();
}

namespace {

/// Opens a blob for reading, verified as it goes.
VerifiedStream open_blob(const Layout::Source& source, const fs::path& layout,
                         const Descriptor& blob) {
    // Callers may pass a descriptor of their own.
    check_digest(blob.digest, layout.string());
    const auto where = fmt::format("{}: blob {}", layout.string(), blob.digest);
    auto stream = source.open(blob_name(blob));
    if (!stream) {
        throw Error(fmt::format("{}: missing", where));
    }
    return VerifiedStream(std::move(stream), blob, where);
}

/// Feeds a VerifiedStream to libarchive, keeping what it throws for after libarchive returns.
struct LayerInput {
    VerifiedStream* stream = nullptr;
    std::array<std::byte, k_chunk> buffer{};
    std::exception_ptr failure;

    static la_ssize_t read(archive* reader, void* user, const void** data) {
        auto* input = static_cast<LayerInput*>(user);
        try {
            *data = input->buffer.data();
            return static_cast<la_ssize_t>(input->stream->read(input->buffer));
        } catch (...) {
            input->failure = std::current_exception();
            archive_set_error(reader, EIO, "reading the layer failed");
            return -1;
        }
    }

    /// Throws what went wrong in `reader`: the stream's own error, or libarchive's.
    [[noreturn]] void fail(archive* reader) const {
        if (failure) {
            std::rethrow_exception(failure);
        }
        throw Error(fmt::format("{}: {}", stream->where(), archive_text(reader)));
    }
};

LayerEntry entry_of(archive_entry* entry) {
    LayerEntry out;
    const char* path = archive_entry_pathname(entry);
    out.path = path != nullptr ? path : "";
    out.mode = static_cast<std::uint32_t>(archive_entry_perm(entry));
    out.uid = static_cast<std::uint32_t>(archive_entry_uid(entry));
    out.gid = static_cast<std::uint32_t>(archive_entry_gid(entry));
    out.size = static_cast<std::uint64_t>(archive_entry_size(entry));
    if (const char* target = archive_entry_hardlink(entry)) {
        out.type = LayerEntry::Type::hard_link;
        out.link = target;
        return out;
    }
    switch (archive_entry_filetype(entry)) {
    case AE_IFREG:
        out.type = LayerEntry::Type::file;
        break;
    case AE_IFDIR:
        out.type = LayerEntry::Type::directory;
        break;
    case AE_IFLNK: {
        out.type = LayerEntry::Type::symlink;
        const char* target = archive_entry_symlink(entry);
        out.link = target != nullptr ? target : "";
        break;
    }
    default:
        out.type = LayerEntry::Type::other;
        break;
    }
    return out;
}

} // namespace

std::string Layout::read_blob(const Descriptor& blob, std::uint64_t limit) const {
    auto stream = open_blob(*m_source, m_path, blob);
    if (blob.size > limit) {
        throw Error(fmt::format("{}: {} bytes, more than the {} a layout's document may have",
                                stream.where(), blob.size, limit));
    }
    std::string bytes(blob.size, '\0');
    std::size_t filled = 0;
    while (filled < bytes.size()) {
        const auto got = stream.read(std::as_writable_bytes(std::span(bytes).subspan(filled)));
        if (got == 0) {
            break;
        }
        filled += got;
    }
    stream.finish();
    return bytes;
}

void Layout::stream_blob(const Descriptor& blob, const ByteSink& sink) const {
    auto stream = open_blob(*m_source, m_path, blob);
    std::array<std::byte, k_chunk> buffer{};
    while (const std::size_t got = stream.read(buffer)) {
        sink(std::span<const std::byte>(buffer.data(), got));
    }
    stream.finish();
}

void Layout::read_layer(
    const Descriptor& layer,
    const std::function<void(const LayerEntry&, const EntryContent&)>& visit) const {
    auto stream = open_blob(*m_source, m_path, layer);
    LayerInput input;
    input.stream = &stream;
    ReadArchive reader(archive_read_new(), &archive_read_free);
    if (!reader) {
        throw Error("cannot initialise libarchive");
    }
    archive_read_support_filter_all(reader.get());
    archive_read_support_format_tar(reader.get());
    if (archive_read_open(reader.get(), &input, nullptr, &LayerInput::read, nullptr) !=
        ARCHIVE_OK) {
        input.fail(reader.get());
    }
    std::vector<char> buffer(k_chunk);
    const EntryContent content = [&](const ByteSink& sink) {
        la_ssize_t got = 0;
        while ((got = archive_read_data(reader.get(), buffer.data(), buffer.size())) > 0) {
            sink(std::as_bytes(std::span(buffer.data(), static_cast<std::size_t>(got))));
        }
        if (got < 0) {
            input.fail(reader.get());
        }
    };
    archive_entry* entry = nullptr;
    int result = ARCHIVE_OK;
    while ((result = archive_read_next_header(reader.get(), &entry)) == ARCHIVE_OK) {
        visit(entry_of(entry), content);
    }
    if (result != ARCHIVE_EOF) {
        input.fail(reader.get());
    }
    // The end of the tar is not the end of the blob (padding, a compressor's trailer): the
    // rest is read too, so that the whole blob is verified.
    stream.finish();
}

namespace {

void check_listed(const Layout& layout, const ListedDescriptor& listed, int depth,
                  std::set<std::string>& seen) {
    const Descriptor& blob = listed.blob;
    if (!seen.insert(blob.digest).second) {
        return;
    }
    const auto where = fmt::format("{}: {}", layout.path().string(), blob.digest);
    if (depth > k_max_depth) {
        throw Error(fmt::format("{}: image indexes nested more than {} deep", where, k_max_depth));
    }
    if (is_index(blob.media_type)) {
        for (const auto& entry : listed_in(parse_json(layout.read_blob(blob), where), where)) {
            check_listed(layout, entry, depth + 1, seen);
        }
    } else if (is_manifest(blob.media_type)) {
        for (const auto& image : layout.images(listed)) {
            for (const auto& layer : image.layers) {
                if (seen.insert(layer.digest).second) {
                    layout.stream_blob(layer, [](std::span<const std::byte>) {});
                }
            }
        }
    } else {
        layout.stream_blob(blob, [](std::span<const std::byte>) {});
    }
}

void collect_images(const Layout& layout, const ListedDescriptor& listed, int depth,
                    std::vector<LayoutImage>& images) {
    const Descriptor& blob = listed.blob;
    const auto where = fmt::format("{}: {}", layout.path().string(), blob.digest);
    if (is_index(blob.media_type)) {
        if (depth > k_max_depth) {
            throw Error(
                fmt::format("{}: image indexes nested more than {} deep", where, k_max_depth));
        }
        for (const auto& entry : listed_in(parse_json(layout.read_blob(blob), where), where)) {
            // An index may list other things (attestations, signatures): images only.
            if (is_index(entry.blob.media_type) || is_manifest(entry.blob.media_type)) {
                collect_images(layout, entry, depth + 1, images);
            }
        }
        return;
    }
    if (!is_manifest(blob.media_type)) {
        throw Error(fmt::format("{}: {} is neither an image manifest nor an image index", where,
                                blob.media_type));
    }
    LayoutImage image{listed, parse_json(layout.read_blob(blob), where), {}, {}, {}};
    const auto& manifest = image.manifest;
    const auto config = manifest.is_object() ? manifest.find("config") : manifest.end();
    const auto layers = manifest.is_object() ? manifest.find("layers") : manifest.end();
    if (config == manifest.end() || layers == manifest.end() || !layers->is_array()) {
        throw Error(fmt::format("{}: an image manifest without `config` and `layers`", where));
    }
    image.config = parse_descriptor(*config, where + ": config").blob;
    for (std::size_t i = 0; i < layers->size(); ++i) {
        image.layers.push_back(
            parse_descriptor((*layers)[i], fmt::format("{}: layers[{}]", where, i)).blob);
    }
    image.config_json =
        parse_json(layout.read_blob(image.config),
                   fmt::format("{}: {}", layout.path().string(), image.config.digest));
    images.push_back(std::move(image));
}

} // namespace

std::vector<LayoutImage> Layout::images(const ListedDescriptor& descriptor) const {
    std::vector<LayoutImage> out;
    collect_images(*this, descriptor, 0, out);
    return out;
}

void Layout::check() const {
    std::set<std::string> seen;
    for (const auto& listed : m_index) {
        check_listed(*this, listed, 0, seen);
    }
}

} // namespace distill::image
