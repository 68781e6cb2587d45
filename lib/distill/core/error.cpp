#include <distill/core/error.hpp>

namespace distill {
namespace {

template <typename Visit>
void walk(const std::exception& error, Visit&& visit) {
    visit(error);
    try {
        std::rethrow_if_nested(error);
    } catch (const std::exception& nested) {
        walk(nested, visit);
    } catch (...) {
        // A non-std exception carries no message; the chain ends here.
    }
}

} // namespace

std::string describe(const std::exception& error) {
    std::string out;
    walk(error, [&](const std::exception& e) {
        std::string_view text = e.what();
        if (text.empty()) {
            return;
        }
        if (!out.empty()) {
            out += ": ";
        }
        out += text;
    });
    return out;
}

ExitCode exit_code_of(const std::exception& error) {
    // Context wrappers are plain Errors with code `failure`; the innermost specific code wins.
    ExitCode code = ExitCode::failure;
    walk(error, [&](const std::exception& e) {
        if (const auto* distill_error = dynamic_cast<const Error*>(&e)) {
            if (distill_error->exit_code() != ExitCode::failure) {
                code = distill_error->exit_code();
            }
        }
    });
    return code;
}

} // namespace distill
