#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>

#include <distill/core/error.hpp>
#include <distill/core/fs.hpp>

namespace distill::core {

std::string errno_text(int error_number) {
    return std::strerror(error_number);
}

Fd::~Fd() {
    if (m_fd >= 0) {
        ::close(m_fd);
    }
}

Fd& Fd::operator=(Fd&& other) noexcept {
    if (this != &other) {
        if (m_fd >= 0) {
            ::close(m_fd);
        }
        m_fd = other.release();
    }
    return *this;
}

int Fd::release() noexcept {
    const int fd = m_fd;
    m_fd = -1;
    return fd;
}

void Fd::close() {
    const int fd = release();
    if (fd >= 0 && ::close(fd) != 0) {
        throw Error(fmt::format("close failed: {}", errno_text(errno)));
    }
}

namespace {

void write_all(int fd, const std::byte* data, std::size_t size, const std::filesystem::path& path) {
    while (size > 0) {
        const ssize_t written = ::write(fd, data, size);
        if (written < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw Error(fmt::format("{}: write failed: {}", path.string(), errno_text(errno)));
        }
        data += written;
        size -= static_cast<std::size_t>(written);
    }
}

/// Takes the lock that says a live process owns `fd`, a temporary file or directory just made
/// at `path`. A remove_stale() of another process may have locked and removed it in between:
/// then it is no longer at `path`, and false says to make another one.
bool own(const Fd& fd, const std::filesystem::path& path) {
    while (::flock(fd.get(), LOCK_EX) != 0) {
        if (errno != EINTR) {
            throw Error(fmt::format("{}: cannot lock: {}", path.string(), errno_text(errno)));
        }
    }
    struct stat opened {};
    struct stat named {};
    return ::fstat(fd.get(), &opened) == 0 && ::lstat(path.c_str(), &named) == 0 &&
           opened.st_dev == named.st_dev && opened.st_ino == named.st_ino;
}

} // namespace

std::string temporary_prefix(std::string_view destination_name) {
    return destination_name.empty() ? std::string(".") : fmt::format(".{}.tmp.", destination_name);
}

void remove_stale(const std::filesystem::path& dir, std::string_view prefix, bool recursive) {
    namespace fs = std::filesystem;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const auto& path = it->path();
        const std::string name = path.filename().string();
        const bool directory = it->is_directory(ec) && !it->is_symlink(ec);
        const bool ours =
            name.starts_with(prefix) && (prefix != "." || name.find(".tmp.") != std::string::npos);
        if (!ours) {
            if (recursive && directory) {
                remove_stale(path, prefix, true);
            }
            continue;
        }
        // A live owner holds the lock; a killed one's lock went with it.
        const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
        if (!fd || ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
            continue;
        }
        struct stat opened {};
        struct stat named {};
        if (::fstat(fd.get(), &opened) != 0 || ::lstat(path.c_str(), &named) != 0 ||
            opened.st_dev != named.st_dev || opened.st_ino != named.st_ino) {
            continue; // replaced meanwhile: not the entry that was found unlocked
        }
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
}

AtomicFile::AtomicFile(std::filesystem::path destination, unsigned mode)
    : m_destination(std::move(destination)) {
    const auto dir = m_destination.parent_path().empty() ? std::filesystem::path(".")
                                                         : m_destination.parent_path();
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
        throw Error(fmt::format("{}: cannot create directory: {}", dir.string(), ec.message()));
    }
    for (;;) {
        std::string pattern =
            (dir / (temporary_prefix(m_destination.filename().string()) + "XXXXXX")).string();
        Fd fd(::mkostemp(pattern.data(), O_CLOEXEC));
        if (!fd) {
            throw Error(fmt::format("{}: cannot create a temporary file: {}", dir.string(),
                                    errno_text(errno)));
        }
        if (own(fd, pattern)) {
            m_fd = std::move(fd);
            m_temp = pattern;
            break;
        }
    }
    const int fd = m_fd.get();
    // mkstemp creates 0600; give the file its final mode now so that rename publishes it whole.
    ::fchmod(fd, static_cast<mode_t>(mode));
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : m_destination(std::move(other.m_destination))
    , m_temp(std::move(other.m_temp))
    , m_fd(std::move(other.m_fd))
    , m_committed(other.m_committed) {
    other.m_committed = true; // the moved-from object must not delete anything
}

AtomicFile::~AtomicFile() {
    if (!m_committed && !m_temp.empty()) {
        std::error_code ec;
        std::filesystem::remove(m_temp, ec);
    }
}

void AtomicFile::write(std::span<const std::byte> data) {
    write_all(m_fd.get(), data.data(), data.size(), m_temp);
}

void AtomicFile::write(std::string_view data) {
    write(std::as_bytes(std::span(data)));
}

void AtomicFile::commit() {
    commit(m_destination);
}

void AtomicFile::commit(const std::filesystem::path& destination) {
    if (::fsync(m_fd.get()) != 0) {
        throw Error(fmt::format("{}: fsync failed: {}", m_temp.string(), errno_text(errno)));
    }
    // Renamed while still open and locked: remove_stale() of another process never sees the
    // temporary file unlocked.
    if (::rename(m_temp.c_str(), destination.c_str()) != 0) {
        throw Error(fmt::format("{}: cannot rename into place: {}", destination.string(),
                                errno_text(errno)));
    }
    m_committed = true;
    m_fd.close();
}

TempDir::TempDir(std::string_view prefix, std::filesystem::path parent) {
    if (parent.empty()) {
        parent = std::filesystem::temp_directory_path();
    }
    for (;;) {
        std::string pattern = (parent / (std::string(prefix) + "XXXXXX")).string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw Error(fmt::format("{}: cannot create a temporary directory: {}", parent.string(),
                                    errno_text(errno)));
        }
        Fd fd(::open(pattern.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!fd && errno == ENOENT) {
            continue; // another process's remove_stale() took it before it was locked
        }
        if (!fd) {
            throw Error(
                fmt::format("{}: cannot open the new directory: {}", pattern, errno_text(errno)));
        }
        if (own(fd, pattern)) {
            m_path = pattern;
            m_lock = std::move(fd);
            break;
        }
    }
}

TempDir::TempDir(TempDir&& other) noexcept
    : m_path(std::move(other.m_path))
    , m_lock(std::move(other.m_lock)) {
    other.m_path.clear();
}

TempDir::~TempDir() {
    if (!m_path.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(m_path, ec);
    }
}

void read_file_chunks(const std::filesystem::path& path,
                      const std::function<void(std::span<const std::byte>)>& sink) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        throw Error(fmt::format("{}: cannot open: {}", path.string(), errno_text(errno)));
    }
    std::vector<std::byte> buffer(std::size_t{256} * 1024);
    while (true) {
        const ssize_t got = ::read(fd.get(), buffer.data(), buffer.size());
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw Error(fmt::format("{}: read failed: {}", path.string(), errno_text(errno)));
        }
        if (got == 0) {
            break;
        }
        sink(std::span(buffer.data(), static_cast<std::size_t>(got)));
    }
}

Fd open_read(const std::filesystem::path& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        throw Error(fmt::format("{}: cannot open: {}", path.string(), errno_text(errno)));
    }
    return fd;
}

void pread_all(const Fd& fd, std::span<std::byte> buffer, std::uint64_t offset,
               const std::filesystem::path& path) {
    std::size_t done = 0;
    while (done < buffer.size()) {
        const ssize_t got = ::pread(fd.get(), buffer.data() + done, buffer.size() - done,
                                    static_cast<off_t>(offset + done));
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw Error(fmt::format("{}: read failed: {}", path.string(), errno_text(errno)));
        }
        if (got == 0) {
            throw Error(
                fmt::format("{}: ends before byte {}", path.string(), offset + buffer.size()));
        }
        done += static_cast<std::size_t>(got);
    }
}

std::string read_file_range(const std::filesystem::path& path, std::uint64_t offset,
                            std::uint64_t size) {
    const Fd fd = open_read(path);
    std::string content(size, '\0');
    pread_all(fd, std::as_writable_bytes(std::span(content)), offset, path);
    return content;
}

std::string read_file(const std::filesystem::path& path) {
    std::string content;
    read_file_chunks(path, [&](std::span<const std::byte> chunk) {
        content.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
    });
    return content;
}

void write_file_atomic(const std::filesystem::path& path, std::string_view content, unsigned mode) {
    AtomicFile file(path, mode);
    file.write(content);
    file.commit();
}

} // namespace distill::core
