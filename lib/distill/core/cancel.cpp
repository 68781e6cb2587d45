#include <atomic>

#include <distill/core/cancel.hpp>
#include <distill/core/error.hpp>

namespace distill::core {
namespace {

// Lock-free, so that setting it from a signal handler is safe.
std::atomic<bool> g_cancelled{false};
static_assert(std::atomic<bool>::is_always_lock_free);

} // namespace

void request_cancel() noexcept {
    g_cancelled.store(true, std::memory_order_relaxed);
}

bool cancel_requested() noexcept {
    return g_cancelled.load(std::memory_order_relaxed);
}

void throw_if_cancelled() {
    if (cancel_requested()) {
        throw Error("interrupted");
    }
}

} // namespace distill::core
