#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include <distill/core/cancel.hpp>
#include <distill/core/parallel.hpp>

namespace distill::core {

void parallel_for(std::size_t count, int jobs, const std::function<void(std::size_t)>& body) {
    std::atomic<std::size_t> next{0};
    std::atomic<bool> failed{false};
    std::exception_ptr first_failure;
    std::mutex failure_mutex;

    const auto work = [&] {
        for (;;) {
            if (failed.load() || cancel_requested()) {
                return;
            }
            const std::size_t i = next.fetch_add(1);
            if (i >= count) {
                return;
            }
            try {
                body(i);
            } catch (...) {
                const std::lock_guard lock(failure_mutex);
                if (!first_failure) {
                    first_failure = std::current_exception();
                }
                failed.store(true);
            }
        }
    };

    const auto threads = std::min<std::size_t>(count, static_cast<std::size_t>(std::max(jobs, 1)));
    std::vector<std::jthread> helpers;
    for (std::size_t t = 1; t < threads; ++t) {
        helpers.emplace_back(work);
    }
    work();
    helpers.clear(); // joins
    if (first_failure) {
        std::rethrow_exception(first_failure);
    }
    throw_if_cancelled();
}

int default_jobs() {
    return static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
}

} // namespace distill::core
