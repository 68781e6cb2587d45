#pragma once

#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

// The error family is rooted in namespace distill (not distill::core) because every module
// throws and catches it; its module-specific subclasses live in their modules' namespaces.
namespace distill {

/// Process exit codes, documented in the README; one per kind of failure a script may want to
/// tell apart.
enum class ExitCode : int {
    ok = 0,
    failure = 1,        ///< anything not covered below
    usage = 2,          ///< bad command line
    manifest = 3,       ///< the manifest does not parse or validate
    verification = 4,   ///< a signature, hash or validity period did not check out
    network = 5,        ///< a download failed after retries
    unsolvable = 6,     ///< the requested packages cannot be installed together
    unsafe_content = 7, ///< a package tried to escape the image root or ship a device node
    lock_mismatch = 8,  ///< --frozen, and the lock is missing or older than the manifest
    not_reproduced = 9, ///< distill verify: the rebuild gave another digest
};

/// The root of every error distill reports. The message is one line in the user's terms, and
/// the exit code says which kind of failure it was.
class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message, ExitCode code = ExitCode::failure)
        : std::runtime_error(message)
        , m_code(code) {}

    /// The exit code the CLI ends with when this error reaches it.
    [[nodiscard]] ExitCode exit_code() const noexcept { return m_code; }

    /// Whether the message already says where the user can fix the problem (a manifest's file
    /// and line), so that with_context() passes the error on without wrapping it in the
    /// pipeline's own steps.
    [[nodiscard]] virtual bool located() const noexcept { return false; }

private:
    ExitCode m_code;
};

/// Something that must be verified was not: a signature, a hash, a validity period. Never a
/// warning; the file in question is not used and not cached.
class VerificationError : public Error {
public:
    explicit VerificationError(const std::string& message)
        : Error(message, ExitCode::verification) {}
};

/// Runs `body`; if it throws, rethrows with `context` ("fetching the release file from URL") nested
/// around the original error, so the CLI can print the whole chain. An error that is
/// located() goes on as it is: the place in the manifest says more than the step did.
template <typename Body>
decltype(auto) with_context(std::string_view context, Body&& body) {
    try {
        return std::forward<Body>(body)();
    } catch (const Error& error) {
        if (error.located()) {
            throw;
        }
        std::throw_with_nested(Error(std::string(context)));
    } catch (...) {
        std::throw_with_nested(Error(std::string(context)));
    }
}

/// The outermost error of type T in a nested chain, or nullptr. The pointer lives as long as
/// `error` does.
template <typename T>
const T* find_nested(const std::exception& error) {
    if (const auto* found = dynamic_cast<const T*>(&error)) {
        return found;
    }
    try {
        std::rethrow_if_nested(error);
    } catch (const std::exception& nested) {
        return find_nested<T>(nested);
    } catch (...) {
        // A non-std exception ends the chain.
    }
    return nullptr;
}

/// Joins a nested error chain into one line: "outer: inner: innermost".
[[nodiscard]] std::string describe(const std::exception& error);

/// The exit code of the innermost distill::Error in a nested chain (failure if there is none).
[[nodiscard]] ExitCode exit_code_of(const std::exception& error);

} // namespace distill
