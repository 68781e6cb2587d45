#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>

namespace distill::core {

/// An owned POSIX file descriptor, closed on destruction.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) noexcept
        : m_fd(fd) {}
    ~Fd();
    Fd(Fd&& other) noexcept
        : m_fd(other.release()) {}
    Fd& operator=(Fd&& other) noexcept;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;

    /// The descriptor, or -1.
    [[nodiscard]] int get() const noexcept { return m_fd; }
    /// Gives up ownership without closing.
    int release() noexcept;
    /// Closes now; throws if close() reports a write-back error.
    void close();
    [[nodiscard]] explicit operator bool() const noexcept { return m_fd >= 0; }

private:
    int m_fd = -1;
};

/// A file written under a temporary name beside its destination and renamed into place only
/// by commit(), so readers never see half-written data and a failure leaves the old file as
/// it was. Without commit(), the destructor removes the temporary file. The temporary file is
/// named `.<name>.tmp.XXXXXX` and locked (flock) by its writer until it is renamed or removed,
/// so that remove_stale() can tell one a killed process left from one being written.
class AtomicFile {
public:
    /// Opens a temporary file in `destination`'s directory (created if missing).
    explicit AtomicFile(std::filesystem::path destination, unsigned mode = 0644);
    ~AtomicFile();
    AtomicFile(AtomicFile&&) noexcept;
    AtomicFile& operator=(AtomicFile&&) = delete;
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    /// Appends bytes.
    void write(std::span<const std::byte> data);
    /// Appends the bytes of a string.
    void write(std::string_view data);
    /// Flushes to disk and renames the file over its destination.
    void commit();
    /// Like commit(), to a destination chosen after writing (a content-addressed name, say).
    /// It must be on the same file system, best in the same directory.
    void commit(const std::filesystem::path& destination);
    /// The temporary file's path (for tools that want a path, not a descriptor).
    [[nodiscard]] const std::filesystem::path& temp_path() const noexcept { return m_temp; }
    /// Where commit() puts the file.
    [[nodiscard]] const std::filesystem::path& destination() const noexcept {
        return m_destination;
    }
    /// The open descriptor of the temporary file.
    [[nodiscard]] int fd() const noexcept { return m_fd.get(); }

private:
    std::filesystem::path m_destination;
    std::filesystem::path m_temp;
    Fd m_fd;
    bool m_committed = false;
};

/// A directory created with a unique name and removed with everything in it on destruction;
/// locked (flock) while it lives, like AtomicFile's temporary file.
class TempDir {
public:
    /// Creates `<parent>/<prefix>XXXXXX`; parent defaults to the system temporary directory.
    explicit TempDir(std::string_view prefix = "distill-", std::filesystem::path parent = {});
    ~TempDir();
    TempDir(TempDir&&) noexcept;
    TempDir& operator=(TempDir&&) = delete;
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    [[nodiscard]] const std::filesystem::path& path() const noexcept { return m_path; }

private:
    std::filesystem::path m_path;
    Fd m_lock;
};

/// Removes what a killed process left in `dir`: entries whose name starts with `prefix` (an
/// AtomicFile's temporary file, a TempDir) that no live process holds locked. With
/// `recursive`, the directories under `dir` too (a cache). Failures are ignored: what cannot be
/// removed now is tried again by the next run.
void remove_stale(const std::filesystem::path& dir, std::string_view prefix,
                  bool recursive = false);

/// The prefix of AtomicFile's temporary files for `destination`, or of every one with "".
[[nodiscard]] std::string temporary_prefix(std::string_view destination_name = "");

/// Reads a whole (small) file into a string; throws naming the path.
[[nodiscard]] std::string read_file(const std::filesystem::path& path);

/// Opens a file for reading; throws naming the path.
[[nodiscard]] Fd open_read(const std::filesystem::path& path);

/// Fills `buffer` from `offset` of an open file; throws naming `path` if the file is shorter.
void pread_all(const Fd& fd, std::span<std::byte> buffer, std::uint64_t offset,
               const std::filesystem::path& path);

/// Reads `size` bytes at `offset` of a file; throws naming the path if it is shorter.
[[nodiscard]] std::string read_file_range(const std::filesystem::path& path, std::uint64_t offset,
                                          std::uint64_t size);

/// Reads a file in chunks of up to 256 KiB, calling `sink` for each.
void read_file_chunks(const std::filesystem::path& path,
                      const std::function<void(std::span<const std::byte>)>& sink);

/// Writes a whole file atomically (temporary file + rename).
void write_file_atomic(const std::filesystem::path& path, std::string_view content,
                       unsigned mode = 0644);

/// The message of the current errno, for error text.
[[nodiscard]] std::string errno_text(int error_number);

} // namespace distill::core
