// parallel_for: every index exactly once on up to `jobs` threads, the first exception rethrown
// once the running calls are done and no new call after it, and cancellation.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <distill/core/cancel.hpp>
#include <distill/core/error.hpp>
#include <distill/core/parallel.hpp>

namespace distill::core {
namespace {

using namespace std::chrono_literals;
using ::testing::Each;
using ::testing::ElementsAreArray;

/// Counts the calls per index, and the threads they ran on.
class CallLog {
public:
    explicit CallLog(std::size_t count)
        : m_calls(count) {}

    void record(std::size_t i) {
        m_calls.at(i).fetch_add(1);
        const std::lock_guard lock(m_mutex);
        m_threads.insert(std::this_thread::get_id());
        m_order.push_back(i);
    }
    [[nodiscard]] std::vector<int> calls() const {
        std::vector<int> out;
        for (const auto& c : m_calls) {
            out.push_back(c.load());
        }
        return out;
    }
    [[nodiscard]] std::set<std::thread::id> threads() const {
        const std::lock_guard lock(m_mutex);
        return m_threads;
    }
    [[nodiscard]] std::vector<std::size_t> order() const {
        const std::lock_guard lock(m_mutex);
        return m_order;
    }

private:
    std::vector<std::atomic<int>> m_calls;
    mutable std::mutex m_mutex;
    std::set<std::thread::id> m_threads;
    std::vector<std::size_t> m_order;
};

/// What a body throws in these tests, to tell it from anything else.
struct BodyFailure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

TEST(CoreParallel, EveryIndexRunsExactlyOnceOnAtMostJobsThreads) {
    // (With fewer indices than jobs, no more threads than indices.)
    for (const auto& [count, jobs] : {std::pair<std::size_t, int>{1000, 4}, {2, 16}}) {
        CallLog log(count);
        parallel_for(count, jobs, [&](std::size_t i) { log.record(i); });
        EXPECT_THAT(log.calls(), Each(1)) << count << " indices, " << jobs << " jobs";
        EXPECT_LE(log.threads().size(), std::min(count, static_cast<std::size_t>(jobs)));
    }
}

TEST(CoreParallel, UpToJobsCallsRunAtOnce) {
    // A thread runs one call at a time, so the first three indices are taken by three
    // threads; each of those calls waits (boundedly) until all three are running together.
    constexpr int k_jobs = 3;
    std::mutex mutex;
    std::condition_variable arrived;
    int together = 0;
    int running = 0;
    int peak = 0;
    bool all_met = true;
    parallel_for(30, k_jobs, [&](std::size_t i) {
        std::unique_lock lock(mutex);
        peak = std::max(peak, ++running);
        if (i < static_cast<std::size_t>(k_jobs)) {
            ++together;
            arrived.notify_all();
            if (!arrived.wait_for(lock, 10s, [&] { return together == k_jobs; })) {
                all_met = false;
            }
        }
        --running;
    });
    EXPECT_TRUE(all_met) << "the first calls did not run at the same time";
    EXPECT_EQ(peak, k_jobs);
}

TEST(CoreParallel, OneJobRunsInOrderOnTheCallersThread) {
    CallLog log(50);
    parallel_for(50, 1, [&](std::size_t i) { log.record(i); });
    std::vector<std::size_t> expected(50);
    for (std::size_t i = 0; i < expected.size(); ++i) {
        expected[i] = i;
    }
    EXPECT_THAT(log.order(), ElementsAreArray(expected));
    EXPECT_EQ(log.threads(), std::set<std::thread::id>{std::this_thread::get_id()});
}

TEST(CoreParallel, JobsBelowOneStillRunEverythingOnTheCallersThread) {
    for (const int jobs : {0, -3}) {
        CallLog log(10);
        parallel_for(10, jobs, [&](std::size_t i) { log.record(i); });
        EXPECT_THAT(log.calls(), Each(1)) << "jobs " << jobs;
        EXPECT_EQ(log.threads(), std::set<std::thread::id>{std::this_thread::get_id()});
    }
}

TEST(CoreParallel, NothingToDoCallsNothing) {
    int calls = 0;
    parallel_for(0, 4, [&](std::size_t) { ++calls; });
    parallel_for(0, 1, [&](std::size_t) { ++calls; });
    EXPECT_EQ(calls, 0);
}

TEST(CoreParallel, OneJobStopsAtTheFirstExceptionAndRethrowsIt) {
    CallLog log(100);
    try {
        parallel_for(100, 1, [&](std::size_t i) {
            log.record(i);
            if (i == 5) {
                throw BodyFailure("index 5 failed");
            }
        });
        FAIL() << "the exception was not rethrown";
    } catch (const BodyFailure& e) {
        EXPECT_STREQ(e.what(), "index 5 failed");
    }
    EXPECT_THAT(log.order(), ElementsAreArray({0U, 1U, 2U, 3U, 4U, 5U}));
}

/// The first `jobs` calls of a parallel_for, held together: call 0 waits until the others are
/// running, then does what the test wants (throw, cancel); the others wait for that, then take
/// another 100 ms, so that they are still running when it happens and return after it. A thread
/// runs one call at a time, so these calls are on `jobs` different threads.
class HeldCalls {
public:
    explicit HeldCalls(int jobs)
        : m_jobs(jobs) {}

    /// The body for parallel_for; `first` runs in call 0 once all `jobs` calls are running.
    template <typename First>
    void run(std::size_t i, First&& first) {
        std::unique_lock lock(m_mutex);
        ++m_calls;
        ++m_running;
        m_changed.notify_all();
        if (i == 0) {
            m_changed.wait_for(lock, 10s, [&] { return m_running == m_jobs; });
            m_done = true;
            --m_running;
            m_changed.notify_all();
            lock.unlock();
            first();
            return;
        }
        m_changed.wait_for(lock, 10s, [&] { return m_done; });
        lock.unlock();
        std::this_thread::sleep_for(100ms);
        lock.lock();
        --m_running;
    }

    [[nodiscard]] int calls() const {
        const std::lock_guard lock(m_mutex);
        return m_calls;
    }
    [[nodiscard]] int running() const {
        const std::lock_guard lock(m_mutex);
        return m_running;
    }

private:
    int m_jobs;
    mutable std::mutex m_mutex;
    std::condition_variable m_changed;
    int m_calls = 0;
    int m_running = 0;
    bool m_done = false;
};

TEST(CoreParallel, AnExceptionStopsNewCallsAndWaitsForTheRunningOnes) {
    constexpr int k_jobs = 4;
    HeldCalls held(k_jobs);
    try {
        parallel_for(1000, k_jobs, [&](std::size_t i) {
            held.run(i, [] { throw BodyFailure("call 0 failed"); });
        });
        FAIL() << "the exception was not rethrown";
    } catch (const BodyFailure& e) {
        EXPECT_STREQ(e.what(), "call 0 failed");
        EXPECT_EQ(held.running(), 0) << "rethrown while calls were still running";
    }
    EXPECT_EQ(held.calls(), k_jobs) << "a call started after the exception";
}

// Cancellation cannot be undone in a process: each test requests it in a child.

TEST(CoreParallel, CancellationStopsNewCallsAndThrowsInterrupted) {
    EXPECT_EXIT(
        {
            constexpr int k_jobs = 2;
            HeldCalls held(k_jobs);
            try {
                parallel_for(1000, k_jobs, [&](std::size_t i) {
                    held.run(i, [] { request_cancel(); }); // as the CLI's signal handler does
                });
            } catch (const Error& e) {
                const bool stopped = held.calls() == k_jobs && held.running() == 0;
                std::_Exit(std::string_view(e.what()) == "interrupted" && stopped ? 0 : 1);
            }
            std::_Exit(2);
        },
        ::testing::ExitedWithCode(0), "");
}

TEST(CoreParallel, CancelledBeforehandCallsNothing) {
    EXPECT_EXIT(
        {
            request_cancel();
            int calls = 0;
            try {
                parallel_for(10, 1, [&](std::size_t) { ++calls; });
            } catch (const Error& e) {
                std::_Exit(std::string_view(e.what()) == "interrupted" && calls == 0 ? 0 : 1);
            }
            std::_Exit(2);
        },
        ::testing::ExitedWithCode(0), "");
}

TEST(CoreParallel, DefaultJobsIsTheNumberOfProcessors) {
    const auto processors = std::thread::hardware_concurrency();
    EXPECT_EQ(default_jobs(), processors == 0 ? 1 : static_cast<int>(processors));
}

} // namespace
} // namespace distill::core
