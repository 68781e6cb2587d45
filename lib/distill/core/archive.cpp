#include <cerrno>

#include <archive.h>
#include <archive_entry.h>

#include <distill/core/archive.hpp>
#include <distill/core/error.hpp>

namespace distill::core {
namespace {
constexpr std::size_t k_tar_chunk = 64U << 10U;
} // namespace

Archive Archive::reader() {
    archive* handle = archive_read_new();
    if (handle == nullptr) {
        throw Error("libarchive: cannot allocate a reader");
    }
    return Archive(handle, Kind::reader);
}

Archive Archive::writer() {
    archive* handle = archive_write_new();
    if (handle == nullptr) {
        throw Error("libarchive: cannot allocate a writer");
    }
    return Archive(handle, Kind::writer);
}

Archive::~Archive() {
    if (m_handle == nullptr) {
        return;
    }
    if (m_kind == Kind::reader) {
        archive_read_free(m_handle);
    } else {
        archive_write_free(m_handle);
    }
}

Archive::Archive(Archive&& other) noexcept
    : m_handle(other.m_handle)
    , m_kind(other.m_kind) {
    other.m_handle = nullptr;
}

std::string Archive::error() const {
    return archive_error(m_handle);
}

ArchiveEntry::ArchiveEntry()
    : m_entry(archive_entry_new()) {
    if (m_entry == nullptr) {
        throw Error("libarchive: cannot allocate an entry");
    }
}

ArchiveEntry::~ArchiveEntry() {
    archive_entry_free(m_entry);
}

TarStream::TarStream(Source source, Filters filters, std::string origin)
    : m_source(std::move(source))
    , m_origin(std::move(origin))
    , m_buffer(k_tar_chunk)
    , m_archive(Archive::reader()) {
    if (filters == Filters::all) {
        archive_read_support_filter_all(m_archive.get());
    }
    archive_read_support_format_tar(m_archive.get());
    if (archive_read_open(m_archive.get(), this, nullptr, &TarStream::read, nullptr) !=
        ARCHIVE_OK) {
        fail();
    }
}

std::ptrdiff_t TarStream::read(archive* handle, void* client, const void** data) {
    auto* self = static_cast<TarStream*>(client);
    try {
        const std::size_t got = self->m_source(std::span(self->m_buffer));
        *data = self->m_buffer.data();
        return static_cast<la_ssize_t>(got);
    } catch (...) {
        // No exception may cross libarchive's C frames: kept for fail() to rethrow.
        self->m_source_error = std::current_exception();
        archive_set_error(handle, EIO, "the archive's bytes cannot be read");
        return ARCHIVE_FATAL;
    }
}

archive_entry* TarStream::next() {
    archive_entry* entry = nullptr;
    const int status = archive_read_next_header(m_archive.get(), &entry);
    if (status == ARCHIVE_EOF) {
        return nullptr;
    }
    if (status < ARCHIVE_WARN) {
        fail();
    }
    return entry;
}

void TarStream::fail(std::string_view what) const {
    if (m_source_error) {
        std::rethrow_exception(m_source_error);
    }
    std::string message = m_origin + ": ";
    if (!what.empty()) {
        message.append(what).append(": ");
    }
    throw Error(message + m_archive.error());
}

std::string archive_error(archive* handle) {
    const char* text = handle != nullptr ? archive_error_string(handle) : nullptr;
    return text != nullptr ? text : "unknown libarchive error";
}

} // namespace distill::core
