#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <distill/core/http.hpp>
#include <distill/core/reporter.hpp>
#include <distill/image/layer.hpp>
#include <distill/registry/auth.hpp>

// A client of the OCI distribution API for one repository of one registry, over the HTTP core.
namespace distill::registry {

/// How to reach registries.
struct RegistryOptions {
    /// Verify TLS (default). false also lets a registry that speaks no TLS be reached over
    /// plain http, as skopeo's --tls-verify=false does; loopback registries may always be.
    bool tls_verify = true;
    /// skopeo's --cert-dir: `*.crt` files are CA certificates trusted for the registry, a
    /// `NAME.cert` with its `NAME.key` a client certificate. Empty: none.
    std::filesystem::path cert_dir;
    /// --authfile: the only credentials file read (see credential_files()).
    std::optional<std::filesystem::path> authfile;
    core::RetryPolicy retry{};
    /// Blobs larger than this are sent in chunks of this size (PATCH with Content-Range), and
    /// a chunk cut off is resumed where the registry says it stopped.
    std::uint64_t chunk_size = std::uint64_t{32} << 20U;
    core::Reporter* reporter = nullptr;
};

/// What was sent, for the summary.
struct TransferStats {
    int blobs_uploaded = 0;
    int blobs_present = 0; ///< the registry had them (HEAD)
    int blobs_mounted = 0; ///< taken from another repository of the registry
    int chunks = 0;        ///< PATCH requests
    int resumed = 0;       ///< uploads picked up again after a cut, where the registry stood
    int restarted = 0;     ///< uploads begun again after a cut (the registry lost the session)
    std::uint64_t bytes_uploaded = 0;
};

/// One repository (`team/app`) of one registry (`host[:port]`).
class Repository {
public:
    /// Finds credentials for it, and the scheme (https; http only for a loopback registry or
    /// with tls_verify false, when https fails). Throws naming the registry when it cannot be
    /// reached.
    Repository(std::string registry, std::string repository, const RegistryOptions& options);
    ~Repository();
    Repository(const Repository&) = delete;
    Repository& operator=(const Repository&) = delete;

    [[nodiscard]] const std::string& registry() const noexcept { return m_registry; }
    [[nodiscard]] const std::string& name() const noexcept { return m_repository; }

    /// Whether the repository has the blob (HEAD; counted in stats() when it has).
    [[nodiscard]] bool has_blob(const std::string& digest);
    /// Asks the registry to mount the blob from `from` (another repository of it); true when
    /// it did (201), false when it started an upload instead or refused.
    bool mount(const std::string& digest, const std::string& from);
    /// Uploads the blob whose bytes are `file` (already verified against `blob`): in one PUT up
    /// to the chunk size, else in chunks, resuming after a cut.
    void upload(const std::filesystem::path& file, const image::Descriptor& blob);

    /// PUTs a manifest or index under `reference` (a tag or its digest); returns the digest the
    /// registry gives (checked to be the bytes' own) and whether it named a subject
    /// (OCI-Subject: the registry has the referrers API).
    struct Put {
        std::string digest;
        bool subject_recorded = false;
    };
    Put put_manifest(const std::string& reference, const std::string& media_type,
                     const std::string& bytes);
    /// The digest of the manifest or index under `reference` (HEAD), or nullopt when there is
    /// none.
    [[nodiscard]] std::optional<std::string> manifest_digest(const std::string& reference);
    /// The manifest or index under `reference` (GET, bounded), or nullopt when there is none.
    [[nodiscard]] std::optional<std::string> get_manifest(const std::string& reference);

    [[nodiscard]] const TransferStats& stats() const noexcept { return m_stats; }
    /// Where the credentials came from (or "no credentials"), for messages.
    [[nodiscard]] std::string credentials_used() const;
    /// Tokens fetched so far (a refresh mid-push shows as more than one).
    [[nodiscard]] int tokens_fetched() const;

private:
    [[nodiscard]] std::string url(const std::string& path) const;
    [[nodiscard]] std::string absolute(const std::string& location) const;
    core::HttpResponse send(const core::HttpRequest& request, const core::BodySink& sink = {});
    [[noreturn]] void refused(const core::NetworkError& error, const std::string& what) const;
    std::string start_upload();
    void upload_chunks(const std::filesystem::path& file, const image::Descriptor& blob,
                       std::string location);

    std::string m_registry;
    std::string m_repository;
    std::string m_api_host; ///< where the API is (registry-1.docker.io for docker.io)
    std::string m_scheme;   ///< "https" or "http"
    RegistryOptions m_options;
    std::unique_ptr<RegistryAuth> m_auth;
    std::unique_ptr<core::HttpClient> m_client;
    std::unique_ptr<core::HttpClient> m_once; ///< no retries: chunks are resumed, not resent
    TransferStats m_stats;
};

/// The HTTP options for a registry (TLS from `options`), without an authenticator.
[[nodiscard]] core::HttpOptions http_options(const RegistryOptions& options);

/// Whether `host` (`host[:port]`) is this machine: localhost, 127.0.0.0/8, [::1].
[[nodiscard]] bool is_loopback(const std::string& host);

} // namespace distill::registry
