#include <archive.h>
#include <archive_entry.h>

#include <distill/core/archive.hpp>
#include <distill/core/error.hpp>

namespace distill::core {

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

std::string archive_error(archive* handle) {
    const char* text = handle != nullptr ? archive_error_string(handle) : nullptr;
    return text != nullptr ? text : "unknown libarchive error";
}

} // namespace distill::core
