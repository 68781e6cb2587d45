#pragma once

#include <string>

// libarchive's handles, forward-declared: only the .cpp files that read or write archives
// include <archive.h>.
struct archive;
struct archive_entry;

namespace distill::core {

/// One libarchive handle, a reader or a writer, freed on destruction (archive_read_free or
/// archive_write_free, whichever it needs).
class Archive {
public:
    /// A new reader (archive_read_new); throws when libarchive cannot allocate one.
    [[nodiscard]] static Archive reader();
    /// A new writer (archive_write_new); throws when libarchive cannot allocate one.
    [[nodiscard]] static Archive writer();

    ~Archive();
    Archive(Archive&& other) noexcept;
    Archive& operator=(Archive&&) = delete;
    Archive(const Archive&) = delete;
    Archive& operator=(const Archive&) = delete;

    [[nodiscard]] archive* get() const noexcept { return m_handle; }
    /// libarchive's message for the last failure on this handle (see archive_error()).
    [[nodiscard]] std::string error() const;

private:
    enum class Kind { reader, writer };
    Archive(archive* handle, Kind kind) noexcept
        : m_handle(handle)
        , m_kind(kind) {}

    archive* m_handle;
    Kind m_kind;
};

/// One archive_entry (a header being written), freed on destruction.
class ArchiveEntry {
public:
    /// A new entry; throws when libarchive cannot allocate one.
    ArchiveEntry();
    ~ArchiveEntry();
    ArchiveEntry(const ArchiveEntry&) = delete;
    ArchiveEntry& operator=(const ArchiveEntry&) = delete;

    [[nodiscard]] archive_entry* get() const noexcept { return m_entry; }

private:
    archive_entry* m_entry;
};

/// archive_error_string() of `handle`, which may be NULL (libarchive sets no message for some
/// failures): then a text that says so, never a null pointer.
[[nodiscard]] std::string archive_error(archive* handle);

} // namespace distill::core
