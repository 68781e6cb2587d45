#pragma once

#include <cstddef>
#include <functional>

namespace distill::core {

/// Calls `body(i)` for every i in [0, count) on up to `jobs` threads (the caller's among them).
/// When a call throws, no new call starts; the first exception is rethrown once every running
/// call has returned. Cancellation (core::request_cancel) also stops new calls.
void parallel_for(std::size_t count, int jobs, const std::function<void(std::size_t)>& body);

/// The default number of jobs: the number of processors, at least 1.
[[nodiscard]] int default_jobs();

} // namespace distill::core
