#include <algorithm>
#include <charconv>
#include <chrono>
#include <thread>

#include <fmt/format.h>

#include <distill/core/cancel.hpp>
#include <distill/core/digest.hpp>
#include <distill/core/error.hpp>
#include <distill/core/fs.hpp>
#include <distill/core/text.hpp>
#include <distill/image/layout.hpp>
#include <distill/image/oci.hpp>
#include <distill/registry/client.hpp>

namespace distill::registry {
namespace {

// A certificate file is a few KiB; a directory of them a few files.
constexpr std::uint64_t k_max_certificate_file = std::uint64_t{1} << 20U;
constexpr std::size_t k_max_cert_dir_entries = 256;

constexpr const char* k_accept =
    "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.docker.distribution.manifest.v2+json";

/// Waits `delay`, noticing cancellation every 100 ms.
void wait(std::chrono::milliseconds delay) {
    const auto until = std::chrono::steady_clock::now() + delay;
    while (std::chrono::steady_clock::now() < until) {
        core::throw_if_cancelled();
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    core::throw_if_cancelled();
}

/// The end offset (inclusive) in a Range header "0-1234", or nullopt.
std::optional<std::uint64_t> range_end(const std::optional<std::string>& header) {
    if (!header) {
        return std::nullopt;
    }
    auto text = std::string_view(*header);
    if (text.starts_with("bytes=")) {
        text.remove_prefix(6);
    }
    const auto dash = text.find('-');
    if (dash == std::string_view::npos) {
        return std::nullopt;
    }
    std::uint64_t end = 0;
    const auto digits = text.substr(dash + 1);
    const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), end);
    if (ec != std::errc{} || ptr != digits.data() + digits.size()) {
        return std::nullopt;
    }
    return end;
}

std::string with_query(const std::string& url, const std::string& query) {
    return url + (url.find('?') == std::string::npos ? "?" : "&") + query;
}

} // namespace

bool is_loopback(const std::string& host) {
    std::string name = host;
    if (name.starts_with('[')) {
        return name.starts_with("[::1]");
    }
    name = name.substr(0, name.find(':'));
    return name == "localhost" || name.starts_with("127.");
}

core::HttpOptions http_options(const RegistryOptions& options) {
    core::HttpOptions http;
    http.retry = options.retry;
    http.parallel = 1;
    http.tls_verify = options.tls_verify;
    http.reporter = options.reporter;
    if (options.cert_dir.empty()) {
        return http;
    }
    std::error_code error;
    if (!std::filesystem::is_directory(options.cert_dir, error)) {
        throw Error(fmt::format("--cert-dir {}: not a directory", options.cert_dir.string()),
                    ExitCode::usage);
    }
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(options.cert_dir)) {
        if (files.size() >= k_max_cert_dir_entries) {
            throw Error(fmt::format("--cert-dir {}: more than {} entries",
                                    options.cert_dir.string(), k_max_cert_dir_entries));
        }
        if (entry.is_regular_file()) {
            files.push_back(entry.path());
        }
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
        const auto extension = file.extension().string();
        if (extension != ".crt" && extension != ".cert") {
            continue;
        }
        if (std::filesystem::file_size(file) > k_max_certificate_file) {
            throw Error(fmt::format("{}: larger than {} bytes; not a certificate", file.string(),
                                    k_max_certificate_file));
        }
        if (extension == ".crt") {
            http.extra_ca_pem += core::read_file(file) + "\n";
        } else if (http.client_certificate.empty()) {
            // As docker and skopeo: NAME.cert goes with NAME.key.
            auto key = file;
            key.replace_extension(".key");
            if (!std::filesystem::is_regular_file(key, error)) {
                throw Error(fmt::format("{}: a client certificate without its key {}",
                                        file.string(), key.string()));
            }
            http.client_certificate = file;
            http.client_key = key;
        }
    }
    return http;
}

Repository::Repository(std::string registry, std::string repository, const RegistryOptions& options)
    : m_registry(std::move(registry))
    , m_repository(std::move(repository))
    , m_api_host(m_registry == "docker.io" ? "registry-1.docker.io" : m_registry)
    , m_options(options) {
    CredentialSearch search;
    auto credentials =
        find_credentials(m_registry, m_repository, credential_files(options.authfile), search);
    const auto base = http_options(options);
    m_auth = std::make_unique<RegistryAuth>(m_registry, std::move(credentials), base);
    m_auth->want_scope(fmt::format("repository:{}:pull,push", m_repository));
    auto with_auth = base;
    with_auth.authenticator = m_auth.get();
    m_client = std::make_unique<core::HttpClient>(with_auth);
    auto once = with_auth;
    once.retry.attempts = 1;
    m_once = std::make_unique<core::HttpClient>(once);

    // The API root answers 200 (or 401 and a challenge, which the authenticator takes).
    const auto probe = [&](const std::string& scheme) {
        m_scheme = scheme;
        m_auth->set_origin(fmt::format("{}://{}/", scheme, m_api_host));
        core::HttpRequest request{url(""), {}, {}};
        request.max_bytes = std::uint64_t{1} << 20U;
        (void)send(request);
    };
    try {
        probe("https");
    } catch (const core::NetworkError& error) {
        // No TLS there: a loopback registry, or one the user said not to verify, may be plain.
        if (error.http_status() != 0 || !(is_loopback(m_registry) || !options.tls_verify)) {
            throw;
        }
        try {
            probe("http");
        } catch (const core::NetworkError& plain) {
            // An https registry whose certificate failed answers plain http with an error:
            // what https said is the story.
            throw core::NetworkError(
                fmt::format("{} (and over plain http: {})", error.what(), plain.what()),
                error.http_status());
        }
    }
}

Repository::~Repository() = default;

std::string Repository::url(const std::string& path) const {
    return fmt::format("{}://{}/v2/{}{}", m_scheme, m_api_host,
                       path.empty() ? "" : m_repository + "/", path);
}

std::string Repository::absolute(const std::string& location) const {
    if (location.starts_with("https://") || location.starts_with("http://")) {
        return location;
    }
    if (!location.starts_with('/')) {
        throw core::NetworkError(fmt::format("{}: the registry gave the upload location `{}`",
                                             m_registry, core::printable(location)));
    }
    return fmt::format("{}://{}{}", m_scheme, m_api_host, location);
}

void Repository::refused(const core::NetworkError& error, const std::string& what) const {
    const long status = error.http_status();
    if (status == 401 || status == 403) {
        throw core::NetworkError(fmt::format("{}: {} {} {} with {}: {}", what, m_registry,
                                             status == 401 ? "did not accept" : "denied",
                                             m_repository, m_auth->described(), error.what()),
                                 status);
    }
    throw core::NetworkError(fmt::format("{}: {}", what, error.what()), status);
}

core::HttpResponse Repository::send(const core::HttpRequest& request, const core::BodySink& sink) {
    try {
        return m_client->send(request, sink);
    } catch (const core::NetworkError& error) {
        if (error.http_status() == 401 || error.http_status() == 403) {
            refused(error, request.url);
        }
        throw;
    }
}

bool Repository::has_blob(const std::string& digest) {
    core::HttpRequest request{url("blobs/" + digest), {}, {}};
    request.method = core::HttpMethod::head;
    try {
        (void)send(request);
        ++m_stats.blobs_present;
        return true;
    } catch (const core::NetworkError& error) {
        if (error.http_status() == 404) {
            return false;
        }
        throw;
    }
}

bool Repository::mount(const std::string& digest, const std::string& from) {
    m_auth->want_scope(fmt::format("repository:{}:pull", from));
    core::HttpRequest request{
        url(fmt::format("blobs/uploads/?mount={}&from={}", digest, from)), {}, {}};
    request.method = core::HttpMethod::post;
    request.body = std::string();
    try {
        const auto response = send(request);
        if (response.status == 201) {
            ++m_stats.blobs_mounted;
            return true;
        }
    } catch (const core::NetworkError& error) {
        // A registry that cannot mount (or may not read `from`) is asked for an upload.
        if (error.http_status() == 0 || error.http_status() >= 500) {
            throw;
        }
    }
    return false;
}

std::string Repository::start_upload() {
    core::HttpRequest request{url("blobs/uploads/"), {}, {}};
    request.method = core::HttpMethod::post;
    request.body = std::string();
    const auto response = send(request);
    const auto location = response.header("Location");
    if (response.status != 202 || !location) {
        throw core::NetworkError(fmt::format("{}: the registry started no upload (status {})",
                                             request.url, response.status),
                                 response.status);
    }
    return absolute(*location);
}

void Repository::upload(const std::filesystem::path& file, const image::Descriptor& blob) {
    auto location = start_upload();
    if (blob.size > m_options.chunk_size) {
        upload_chunks(file, blob, std::move(location));
    } else {
        core::HttpRequest request{with_query(location, "digest=" + blob.digest), {}, {}};
        request.method = core::HttpMethod::put;
        request.headers.emplace_back("Content-Type", "application/octet-stream");
        request.body = core::FileRange{file, 0, blob.size};
        (void)send(request);
    }
    ++m_stats.blobs_uploaded;
    m_stats.bytes_uploaded += blob.size;
}

void Repository::upload_chunks(const std::filesystem::path& file, const image::Descriptor& blob,
                               std::string location) {
    std::uint64_t offset = 0;
    int failures = 0;
    auto delay = m_options.retry.first_delay;
    while (offset < blob.size) {
        const auto length = std::min(m_options.chunk_size, blob.size - offset);
        core::HttpRequest request{location, {}, {}};
        request.method = core::HttpMethod::patch;
        request.headers.emplace_back("Content-Type", "application/octet-stream");
        request.headers.emplace_back("Content-Range",
                                     fmt::format("{}-{}", offset, offset + length - 1));
        request.body = core::FileRange{file, offset, length};
        try {
            const auto response = m_once->send(request);
            ++m_stats.chunks;
            if (const auto next = response.header("Location")) {
                location = absolute(*next);
            }
            offset += length;
            continue;
        } catch (const core::NetworkError& error) {
            const long status = error.http_status();
            if (status == 401 || status == 403) {
                refused(error, location);
            }
            // A cut connection, a 5xx, a 416 (the registry has another offset), 408 or 429:
            // ask where the upload stands and go on from there.
            const bool resumable =
                status == 0 || status >= 500 || status == 416 || status == 408 || status == 429;
            if (!resumable || ++failures >= m_options.retry.attempts) {
                throw core::NetworkError(fmt::format("uploading {} to {}: {} (after {} attempts)",
                                                     blob.digest, m_registry, error.what(),
                                                     failures),
                                         status);
            }
        }
        wait(delay);
        delay = std::min(delay * 2, m_options.retry.max_delay);
        // Where does the upload stand? A registry that took part of the cut chunk may have
        // moved its session on (distribution's signed `_state`): the old location then no
        // longer answers, and the blob starts over in a new session.
        core::HttpRequest status_request{location, {}, {}};
        std::optional<core::HttpResponse> answer;
        try {
            answer = send(status_request);
        } catch (const core::NetworkError& error) {
            if (error.http_status() < 400 || error.http_status() >= 500) {
                throw;
            }
        }
        if (answer) {
            if (const auto next = answer->header("Location")) {
                location = absolute(*next);
            }
            const auto end = range_end(answer->header("Range"));
            offset = end ? std::min(*end + 1, blob.size) : 0;
            ++m_stats.resumed;
        } else {
            location = start_upload();
            offset = 0;
            ++m_stats.restarted;
        }
        if (m_options.reporter != nullptr) {
            m_options.reporter->debug(fmt::format("{} the upload of {} at byte {}",
                                                  answer ? "resuming" : "restarting", blob.digest,
                                                  offset));
        }
    }
    core::HttpRequest finish{with_query(location, "digest=" + blob.digest), {}, {}};
    finish.method = core::HttpMethod::put;
    finish.headers.emplace_back("Content-Type", "application/octet-stream");
    finish.body = std::string();
    (void)send(finish);
}

Repository::Put Repository::put_manifest(const std::string& reference,
                                         const std::string& media_type, const std::string& bytes) {
    core::HttpRequest request{url("manifests/" + reference), {}, {}};
    request.method = core::HttpMethod::put;
    request.headers.emplace_back("Content-Type", media_type);
    request.body = bytes;
    const auto response = send(request);
    const auto own = "sha256:" + core::sha256_hex(bytes);
    Put put;
    put.digest = response.header("Docker-Content-Digest").value_or(own);
    if (put.digest != own) {
        throw VerificationError(fmt::format("{}: the registry stored {} as {}, not as {}",
                                            request.url, reference, put.digest, own));
    }
    put.subject_recorded = response.header("OCI-Subject").has_value();
    return put;
}

std::optional<std::string> Repository::manifest_digest(const std::string& reference) {
    core::HttpRequest request{url("manifests/" + reference), {}, {}};
    request.method = core::HttpMethod::head;
    request.headers.emplace_back("Accept", k_accept);
    try {
        const auto response = send(request);
        if (auto digest = response.header("Docker-Content-Digest")) {
            return digest;
        }
    } catch (const core::NetworkError& error) {
        if (error.http_status() == 404) {
            return std::nullopt;
        }
        throw;
    }
    const auto manifest = get_manifest(reference);
    return manifest ? std::optional("sha256:" + core::sha256_hex(*manifest)) : std::nullopt;
}

std::optional<std::string> Repository::get_manifest(const std::string& reference) {
    core::HttpRequest request{url("manifests/" + reference), {}, {}};
    request.headers.emplace_back("Accept", k_accept);
    request.max_bytes = image::k_max_document_size;
    std::string body;
    try {
        (void)send(request,
                   core::BodySink{[&] { body.clear(); },
                                  [&](std::span<const std::byte> data) {
                                      body.append(reinterpret_cast<const char*>(data.data()),
                                                  data.size());
                                  }});
    } catch (const core::NetworkError& error) {
        if (error.http_status() == 404) {
            return std::nullopt;
        }
        throw;
    }
    return body;
}

std::string Repository::credentials_used() const {
    return m_auth->described();
}

int Repository::tokens_fetched() const {
    return m_auth->tokens_fetched();
}

} // namespace distill::registry
