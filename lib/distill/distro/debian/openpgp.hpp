#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <distill/core/error.hpp>

namespace distill::distro::debian {

/// The signed content of a clearsigned file and who vouched for it.
struct SignedText {
    std::string text;                 ///< exactly the text the signatures cover
    std::vector<std::string> signers; ///< primary-key fingerprints of the good signatures
};

/// Verifies a clearsigned file (an InRelease) against the keys in `keyring` (a binary
/// OpenPGP keyring or an ASCII-armored key file) with gpgv, deciding as apt does: at least one
/// good signature (VALIDSIG) by a key in the keyring, with a strong digest, and no bad one;
/// signatures by keys the keyring lacks are ignored. The file must be one clearsigned message
/// with nothing outside it. `origin` (a URL) names the file in errors.
[[nodiscard]] SignedText verify_clearsigned(const std::filesystem::path& file,
                                            const std::filesystem::path& keyring,
                                            std::string_view origin);

/// The binary form of an ASCII-armored OpenPGP key file (one or more armored blocks).
/// Returns the input unchanged when it is not armored.
[[nodiscard]] std::string dearmor_keyring(std::string_view content, std::string_view origin);

} // namespace distill::distro::debian
