#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <distill/core/reporter.hpp>
#include <distill/image/layout.hpp>
#include <distill/image/reference.hpp>
#include <distill/registry/client.hpp>

// `distill push`: an OCI layout (or archive) to registries, over the distribution API.
namespace distill::registry {

struct PushOptions {
    RegistryOptions registry;
    /// Send nothing to a reference whose tag already names the image and whose repository has
    /// the image's referrers (the nightly build that changed nothing). A registry takes a
    /// manifest only once what it names is there, and distill writes the tag last, so such a
    /// tag names a complete image.
    bool skip_unchanged = true;
    /// Where to remember which repository of a registry has which blob, so that a push to
    /// another repository mounts it instead of uploading it (empty: nothing remembered).
    std::filesystem::path state_dir;
};

/// What happened at one reference.
struct PushedReference {
    std::string reference;  ///< registry/repository:tag
    bool unchanged = false; ///< the tag already named the image: nothing was sent
    TransferStats stats;
    int manifests = 0;          ///< manifests and indexes PUT (the tag's included)
    int referrers = 0;          ///< artifacts whose subject is the image (SBOMs, signatures)
    bool referrers_api = false; ///< the registry recorded them itself; else the tag fallback
    int tokens = 0;             ///< bearer tokens fetched
    std::string credentials;    ///< where the credentials came from, or "no credentials"
};

struct PushResult {
    std::string digest;     ///< of what the tags name: the layout's image (index or manifest)
    std::string media_type; ///< of that
    std::vector<PushedReference> references;
};

/// The repository a reference names on its registry: docker.io's one-component names are
/// under library/.
[[nodiscard]] std::string repository_of(const image::Reference& reference);
/// The registry of a reference: docker.io when it names none.
[[nodiscard]] std::string registry_of(const image::Reference& reference);

/// Pushes the image the layout's index.json names first, with everything it reaches and the
/// artifacts of the layout whose subject is one of its manifests (through the referrers API,
/// or the `sha256-<hex>` tag fallback of distribution-spec 1.1), to each reference: blobs
/// the repository lacks (mounted from another repository of the registry where one is known
/// to have them, else uploaded), then the manifests by digest, then the tag, so that a tag
/// never names an image whose parts are missing, whenever the push stops. Every blob is
/// checked against its digest before it is sent.
/// Then it pushes each variant the layout has (an image listed after it whose ref name is the
/// image's, then `-VARIANT`) the same way, to each reference's tag with `-VARIANT` appended.
[[nodiscard]] PushResult push(const image::Layout& layout,
                              const std::vector<image::Reference>& references,
                              const PushOptions& options, core::Reporter& reporter);

/// push() of one image of the layout (as index.json lists it), without its variants.
[[nodiscard]] PushResult push_image(const image::Layout& layout,
                                    const image::ListedDescriptor& image,
                                    const std::vector<image::Reference>& references,
                                    const PushOptions& options, core::Reporter& reporter);

} // namespace distill::registry
