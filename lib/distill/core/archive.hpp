#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

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

/// A libarchive reader of one tar archive whose bytes come from a callback on demand, so that
/// an archive inside another (a .deb's member, a gzip member of an .apk) is never held whole.
class TarStream {
public:
    /// Fills `buffer` with the next bytes of the archive; returns how many (0 at its end). It
    /// may throw: the exception is kept and rethrown by fail().
    using Source = std::function<std::size_t(std::span<char> buffer)>;
    /// Whether libarchive may undo a compression it recognises (a .deb's member names its
    /// compression) or must read a plain tar (the caller already expanded it).
    enum class Filters { none, all };

    /// Opens the reader; a stream that does not start as a tar is an Error naming `origin`.
    TarStream(Source source, Filters filters, std::string origin);
    TarStream(const TarStream&) = delete;
    TarStream& operator=(const TarStream&) = delete;
    TarStream(TarStream&&) = delete;
    TarStream& operator=(TarStream&&) = delete;

    [[nodiscard]] archive* get() const noexcept { return m_archive.get(); }

    /// The next entry's header, or nullptr at the end of the archive; a malformed header is an
    /// Error (see fail()).
    [[nodiscard]] archive_entry* next();

    /// Throws for a failed libarchive call: the source's own exception when the source
    /// failed (its type kept), else an Error "origin: what: libarchive's message" (without
    /// `what` when it is empty).
    [[noreturn]] void fail(std::string_view what = {}) const;

    /// Where the bytes come from, for messages.
    [[nodiscard]] const std::string& origin() const noexcept { return m_origin; }

private:
    static std::ptrdiff_t read(archive* handle, void* client, const void** data);

    Source m_source;
    std::string m_origin;
    std::vector<char> m_buffer;
    std::exception_ptr m_source_error;
    Archive m_archive;
};

/// archive_error_string() of `handle`, which may be NULL (libarchive sets no message for some
/// failures): then a text that says so, never a null pointer.
[[nodiscard]] std::string archive_error(archive* handle);

} // namespace distill::core
