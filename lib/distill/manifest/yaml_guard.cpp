// Why a guard, and why this one.
//
// yaml-cpp 0.7 (Debian 12's) has parser bugs on malformed input that never end: on a document
// that starts with `,` it allocates without bound and, being a tight loop, ignores SIGINT. A
// manifest comes from a pull request as often as from its author, so reading one must end in
// bounded time and memory whatever it holds. Three layers:
//
// 1. Size: at most k_max_manifest_bytes are read at all, so a huge file or a device costs
//    nothing.
// 2. libyaml, a small C parser fuzzed for years (OSS-Fuzz) and linear in its input, runs its
//    event parser over the whole text first. Its error is the manifest's error, at the line and
//    column libyaml names; the known yaml-cpp hangs are all malformed input that libyaml refuses
//    there. The same pass counts nodes and depth, the two things that drive yaml-cpp's time,
//    memory and recursion on input it does parse. libyaml follows YAML 1.1 and refuses a few
//    corners of YAML 1.2 that yaml-cpp accepts (empty keys, reserved directives, tabs in
//    indentation-like places); a manifest never needs them, and each is a located error.
// 3. A trial parse by yaml-cpp in a child process under CPU, address-space and wall-clock
//    limits, for the yaml-cpp bug libyaml does not refuse (not known today, hence a backstop).
//    The parent waits for it interruptibly, then parses again itself: yaml-cpp is
//    deterministic, so the second parse ends too, and it is the one whose nodes the reader
//    walks. Sending the nodes back instead would mean serialising them; parsing a manifest
//    twice costs microseconds (a fork about a millisecond), and the bounds of 2. keep the worst
//    case under a second.
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <new>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <yaml.h>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <distill/core/cancel.hpp>
#include <distill/core/error.hpp>
#include <distill/core/fs.hpp>
#include <distill/manifest/yaml_guard.hpp>

#if defined(__SANITIZE_ADDRESS__)
#define DISTILL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DISTILL_ASAN 1
#endif
#endif

namespace distill::manifest::detail {
#ifdef DISTILL_ASAN
const bool k_trial_memory_bounded = false;
#else
const bool k_trial_memory_bounded = true;
#endif

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Exit codes of the trial child.
constexpr int k_trial_finished = 0;
constexpr int k_trial_out_of_memory = 3;
constexpr int k_trial_failed = 4;

class Parser {
public:
    Parser() {
        if (yaml_parser_initialize(&m_parser) == 0) {
            throw std::bad_alloc();
        }
    }
    ~Parser() { yaml_parser_delete(&m_parser); }
    Parser(const Parser&) = delete;
    Parser& operator=(const Parser&) = delete;
    yaml_parser_t* get() { return &m_parser; }

private:
    yaml_parser_t m_parser{};
};

class Event {
public:
    Event() = default;
    ~Event() { yaml_event_delete(&m_event); }
    Event(const Event&) = delete;
    Event& operator=(const Event&) = delete;
    yaml_event_t* get() { return &m_event; }
    [[nodiscard]] yaml_event_type_t type() const { return m_event.type; }
    [[nodiscard]] const yaml_mark_t& start() const { return m_event.start_mark; }

private:
    yaml_event_t m_event{};
};

Location at(const fs::path& file, const yaml_mark_t& mark) {
    return Location{file, static_cast<int>(std::min<std::size_t>(mark.line + 1, 1'000'000'000)),
                    static_cast<int>(std::min<std::size_t>(mark.column + 1, 1'000'000'000))};
}

/// libyaml's reader (encoding) errors give a byte offset, not a mark.
Location at_offset(const fs::path& file, std::string_view text, std::size_t offset) {
    offset = std::min(offset, text.size());
    const std::string_view before = text.substr(0, offset);
    const auto line_start = before.rfind('\n');
    const std::string_view line =
        line_start == std::string_view::npos ? before : before.substr(line_start + 1);
    // Columns count characters, as libyaml's marks do: UTF-8 continuation bytes are skipped.
    const auto column = std::count_if(line.begin(), line.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U;
    });
    const auto lines = std::count(before.begin(), before.end(), '\n');
    return Location{file, static_cast<int>(std::min<std::ptrdiff_t>(lines + 1, 1'000'000'000)),
                    static_cast<int>(std::min<std::ptrdiff_t>(column + 1, 1'000'000'000))};
}

Diagnostic syntax_error(const fs::path& file, std::string_view text, const yaml_parser_t& parser) {
    const std::string problem = parser.problem != nullptr ? parser.problem : "cannot be parsed";
    if (parser.error == YAML_READER_ERROR) {
        return Diagnostic{at_offset(file, text, parser.problem_offset),
                          fmt::format("YAML syntax error: {}", problem),
                          "a manifest is UTF-8 text without control characters"};
    }
    if (parser.error == YAML_MEMORY_ERROR) {
        throw std::bad_alloc();
    }
    std::string message = fmt::format("YAML syntax error: {}", problem);
    const auto& mark = parser.problem_mark;
    const auto& context = parser.context_mark;
    // The context ("while parsing a flow mapping") helps when it points elsewhere, typically
    // at the bracket that was never closed.
    if (parser.context != nullptr && (context.line != mark.line || context.column != mark.column)) {
        message += fmt::format(" ({} at line {}, column {})", parser.context, context.line + 1,
                               context.column + 1);
    }
    return Diagnostic{at(file, mark), std::move(message), {}};
}

Diagnostic unfinished(const fs::path& file, std::string what) {
    return Diagnostic{Location{file, 0, 0}, std::move(what),
                      "yaml-cpp cannot read this file; write the manifest in plain block style "
                      "(`key: value`, `- item`) and report the file as a bug"};
}

/// Whether the child has ended; its wait status in `status`.
bool reaped(pid_t pid, int& status) {
    while (true) {
        const pid_t done = ::waitpid(pid, &status, WNOHANG);
        if (done == pid) {
            return true;
        }
        if (done == 0) {
            return false;
        }
        if (errno != EINTR) {
            throw Error(
                fmt::format("waiting for the YAML parser failed: {}", core::errno_text(errno)));
        }
    }
}

void kill_and_reap(pid_t pid) {
    ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
}

/// The address space in use now (VmSize), so that the child's limit is a budget on top of it.
std::size_t address_space_now() {
    std::FILE* statm = std::fopen("/proc/self/statm", "r");
    if (statm == nullptr) {
        return 0;
    }
    unsigned long pages = 0;
    const int got = std::fscanf(statm, "%lu", &pages);
    std::fclose(statm);
    const long page = ::sysconf(_SC_PAGESIZE);
    return got == 1 && page > 0 ? pages * static_cast<std::size_t>(page) : 0;
}

[[noreturn]] void run_trial(const std::string& text, const TrialLimits& limits,
                            std::size_t address_space) {
    // No core file for a parser that was killed on purpose.
    const rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    // SIGXCPU at the soft limit, SIGKILL a second later if that is caught or ignored.
    const rlimit cpu{limits.cpu_seconds, limits.cpu_seconds + 1};
    ::setrlimit(RLIMIT_CPU, &cpu);
    if (k_trial_memory_bounded && address_space > 0) {
        const rlimit memory{address_space + limits.memory_bytes,
                            address_space + limits.memory_bytes};
        ::setrlimit(RLIMIT_AS, &memory);
    }
    int code = k_trial_finished;
    try {
        (void)YAML::LoadAll(text);
    } catch (const YAML::Exception&) {
        // Malformed YAML, said in bounded time: the parent reports it from its own parse.
    } catch (const std::bad_alloc&) {
        code = k_trial_out_of_memory;
    } catch (...) {
        code = k_trial_failed;
    }
    // No exit handlers, no flushing of the parent's stdio buffers: this is the parent's copy.
    ::_exit(code);
}

} // namespace

std::string read_manifest_text(const fs::path& file) {
    const core::Fd fd = core::open_read(file);
    std::string text;
    char buffer[64 * 1024];
    while (text.size() <= k_max_manifest_bytes) {
        const std::size_t wanted = std::min(sizeof buffer, k_max_manifest_bytes + 1 - text.size());
        const ssize_t got = ::read(fd.get(), buffer, wanted);
        if (got < 0) {
            if (errno == EINTR) {
                core::throw_if_cancelled();
                continue;
            }
            throw Error(fmt::format("{}: read failed: {}", file.string(), core::errno_text(errno)));
        }
        if (got == 0) {
            break;
        }
        text.append(buffer, static_cast<std::size_t>(got));
    }
    return text;
}

std::optional<Diagnostic> check_yaml(const fs::path& file, std::string_view text) {
    if (text.size() > k_max_manifest_bytes) {
        return Diagnostic{Location{file, 0, 0},
                          fmt::format("the manifest is larger than {} MiB, the most a manifest "
                                      "may have",
                                      k_max_manifest_bytes >> 20U),
                          "is this the right file? a manifest of a thousand packages is 20 kB"};
    }
    Parser parser;
    yaml_parser_set_input_string(parser.get(), reinterpret_cast<const unsigned char*>(text.data()),
                                 text.size());
    std::size_t nodes = 0;
    int depth = 0;
    while (true) {
        Event event;
        if (yaml_parser_parse(parser.get(), event.get()) == 0) {
            return syntax_error(file, text, *parser.get());
        }
        switch (event.type()) {
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (++depth > k_max_yaml_depth) {
                return Diagnostic{
                    at(file, event.start()),
                    fmt::format("lists and maps nested more than {} deep", k_max_yaml_depth),
                    "a manifest needs four levels at most"};
            }
            [[fallthrough]];
        case YAML_SCALAR_EVENT:
        case YAML_ALIAS_EVENT:
            if (++nodes > k_max_yaml_nodes) {
                return Diagnostic{
                    at(file, event.start()),
                    fmt::format("more than {} YAML values in one manifest", k_max_yaml_nodes),
                    "is this the right file?"};
            }
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            --depth;
            break;
        case YAML_STREAM_END_EVENT:
            return std::nullopt;
        default:
            break;
        }
    }
}

std::optional<Diagnostic> trial_parse(const fs::path& file, const std::string& text,
                                      const TrialLimits& limits) {
    const std::size_t address_space = address_space_now();
    const auto started = Clock::now();
    const pid_t pid = ::fork();
    if (pid < 0) {
        throw Error(fmt::format("{}: cannot start the YAML parser: {}", file.string(),
                                core::errno_text(errno)));
    }
    if (pid == 0) {
        run_trial(text, limits, address_space);
    }

    // Polled with a short sleep rather than a SIGCHLD handler, which would be process-wide
    // state; a signal (Ctrl-C) cuts the sleep short and is seen at once.
    int status = 0;
    auto pause = std::chrono::microseconds(200);
    while (!reaped(pid, status)) {
        if (core::cancel_requested()) {
            kill_and_reap(pid);
            core::throw_if_cancelled();
        }
        if (Clock::now() - started > limits.wall) {
            kill_and_reap(pid);
            return unfinished(file,
                              fmt::format("the YAML parser did not finish within {} s",
                                          std::chrono::duration<double>(limits.wall).count()));
        }
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::microseconds(20'000));
    }

    if (WIFEXITED(status)) {
        switch (WEXITSTATUS(status)) {
        case k_trial_finished:
            return std::nullopt;
        case k_trial_out_of_memory:
            return unfinished(file, fmt::format("the YAML parser needed more than {} MiB of memory",
                                                limits.memory_bytes >> 20U));
        default:
            return unfinished(file, "the YAML parser failed");
        }
    }
    const int signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    if (signal == SIGXCPU || signal == SIGKILL) {
        return unfinished(file, fmt::format("the YAML parser did not finish within {} s of CPU "
                                            "time",
                                            limits.cpu_seconds));
    }
    return unfinished(file, fmt::format("the YAML parser crashed (signal {})", signal));
}

std::optional<Diagnostic> guard_yaml(const fs::path& file, const std::string& text) {
    if (auto problem = check_yaml(file, text)) {
        return problem;
    }
#ifdef DISTILL_FUZZING
    return std::nullopt;
#else
    return trial_parse(file, text);
#endif
}

} // namespace distill::manifest::detail
