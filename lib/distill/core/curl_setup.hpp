#pragma once

#include <string>

#include <curl/curl.h>

// Private to lib/: what every libcurl transfer of distill's has in common, for the single
// transfers of HttpClient and the parallel ones of fetch.
namespace distill::core::detail {

/// curl_global_init, once per process.
void curl_global_once();

/// Sets the URL and the options every transfer uses: http, https and file only (redirects to
/// http and https only), the user agent, a connect timeout, an abort when a transfer stalls,
/// no signals, and `error_buffer` (CURL_ERROR_SIZE bytes) for curl's message.
void set_common_options(CURL* curl, const std::string& url, char* error_buffer);

/// curl's message for a failed transfer: the error buffer when it says something, else the
/// code's generic text.
[[nodiscard]] std::string curl_failure_text(CURLcode code, const char* error_buffer);

} // namespace distill::core::detail
