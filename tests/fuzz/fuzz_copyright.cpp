// Debian copyright files (usr/share/doc/PACKAGE/copyright, as packages ship them): the licence
// an SBOM states, from the machine-readable format's License fields, and the SPDX expressions
// Alpine's packages declare.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <distill/sbom/license.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    (void)distill::sbom::license_from_copyright(text);
    (void)distill::sbom::spdx_expression(text.substr(0, 4096));
    return 0;
}
