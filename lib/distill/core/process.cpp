#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <poll.h>
#include <spawn.h>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <distill/core/cancel.hpp>
#include <distill/core/error.hpp>
#include <distill/core/fs.hpp>
#include <distill/core/process.hpp>

extern char** environ;

namespace distill::core {
namespace {

struct Pipe {
    Fd read_end;
    Fd write_end;
};

Pipe make_pipe() {
    std::array<int, 2> fds{};
    if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
        throw Error(fmt::format("cannot create a pipe: {}", errno_text(errno)));
    }
    return {Fd(fds[0]), Fd(fds[1])};
}

class SpawnActions {
public:
    SpawnActions() { posix_spawn_file_actions_init(&m_actions); }
    ~SpawnActions() { posix_spawn_file_actions_destroy(&m_actions); }
    SpawnActions(const SpawnActions&) = delete;
    SpawnActions& operator=(const SpawnActions&) = delete;
    posix_spawn_file_actions_t* get() { return &m_actions; }

private:
    posix_spawn_file_actions_t m_actions{};
};

} // namespace

ProcessResult run_process(const std::vector<std::string>& args,
                          const std::optional<std::string>& input, std::size_t max_output) {
    if (args.empty()) {
        throw Error("run_process: no program given");
    }
    Pipe out = make_pipe();
    Pipe err = make_pipe();
    std::optional<Pipe> in;

    SpawnActions actions;
    if (input) {
        in = make_pipe();
        posix_spawn_file_actions_adddup2(actions.get(), in->read_end.get(), 0);
    } else {
        posix_spawn_file_actions_addopen(actions.get(), 0, "/dev/null", O_RDONLY, 0);
    }
    posix_spawn_file_actions_adddup2(actions.get(), out.write_end.get(), 1);
    posix_spawn_file_actions_adddup2(actions.get(), err.write_end.get(), 2);

    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (const auto& arg : args) {
        argv.push_back(const_cast<char*>(arg.c_str()));
    }
    argv.push_back(nullptr);

    pid_t pid = 0;
    const int rc = ::posix_spawnp(&pid, argv[0], actions.get(), nullptr, argv.data(), environ);
    if (rc != 0) {
        throw Error(fmt::format("cannot run {}: {}", args[0], errno_text(rc)));
    }
    out.write_end.close();
    err.write_end.close();
    if (in) {
        in->read_end.close();
        // Small enough for the pipe's buffer: written whole before the output is read. A child
        // that exits without reading it gives EPIPE, which is its answer, not an error here;
        // the SIGPIPE that comes with it is blocked in this thread only, and taken.
        const auto* data = input->data();
        std::size_t left = input->size();
        sigset_t pipe_signal;
        sigemptyset(&pipe_signal);
        sigaddset(&pipe_signal, SIGPIPE);
        sigset_t previous;
        pthread_sigmask(SIG_BLOCK, &pipe_signal, &previous);
        while (left > 0) {
            const ssize_t wrote = ::write(in->write_end.get(), data, left);
            if (wrote < 0 && errno == EINTR) {
                continue;
            }
            if (wrote <= 0) {
                break;
            }
            data += wrote;
            left -= static_cast<std::size_t>(wrote);
        }
        const timespec none{};
        while (sigtimedwait(&pipe_signal, nullptr, &none) > 0) {
        }
        pthread_sigmask(SIG_SETMASK, &previous, nullptr);
        in->write_end.close();
    }

    ProcessResult result;
    std::array<pollfd, 2> fds{pollfd{out.read_end.get(), POLLIN, 0},
                              pollfd{err.read_end.get(), POLLIN, 0}};
    std::array<std::string*, 2> sinks{&result.out, &result.err};
    std::array<char, 65536> buffer{};
    int open_count = 2;
    while (open_count > 0) {
        // Woken every 100 ms to notice cancellation: the child is killed and reaped, never
        // waited for.
        if (cancel_requested()) {
            ::kill(pid, SIGKILL);
            while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
            }
            throw_if_cancelled();
        }
        if (::poll(fds.data(), fds.size(), 100) < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        for (std::size_t i = 0; i < fds.size(); ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) {
                continue;
            }
            const ssize_t got = ::read(fds[i].fd, buffer.data(), buffer.size());
            if (got > 0) {
                sinks[i]->append(buffer.data(), static_cast<std::size_t>(got));
                if (sinks[i]->size() > max_output) {
                    ::kill(pid, SIGKILL);
                    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
                    }
                    throw Error(fmt::format("{} wrote more than {} bytes; stopped it", args[0],
                                            max_output));
                }
            } else if (got == 0 || errno != EINTR) {
                fds[i].fd = -1;
                --open_count;
            }
        }
    }

    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            throw Error(fmt::format("waiting for {} failed: {}", args[0], errno_text(errno)));
        }
    }
    if (WIFEXITED(status)) {
        result.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        result.exit_code = 128 + WTERMSIG(status);
    }
    return result;
}

bool program_exists(const std::string& program) {
    const char* path = std::getenv("PATH");
    std::istringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
        const auto candidate = std::filesystem::path(dir.empty() ? "." : dir) / program;
        if (::access(candidate.c_str(), X_OK) == 0) {
            return true;
        }
    }
    return false;
}

} // namespace distill::core
