#pragma once

// Building apk v2 files in tests: tar archives written with libarchive, gzip members with
// zlib, and real Alpine files taken apart at their member boundaries.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/sysmacros.h>
#include <vector>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <zlib.h>

#include <distill/core/digest.hpp>
#include <distill/core/fs.hpp>

#include "support.hpp"

namespace distill::test::apk {

/// One entry of a tar being built.
struct TarEntry {
    std::string path{};
    std::string data{};       ///< a regular file's bytes
    unsigned type = AE_IFREG; ///< AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFCHR, ...
    unsigned mode = 0644;
    std::string link{};     ///< a symlink's target
    std::string hardlink{}; ///< for a hard link: the path it shares a file with
};

/// A pax tar of `entries`; `cut` leaves out the end-of-archive blocks, as abuild does for the
/// signature and control members.
inline std::string make_tar(const std::vector<TarEntry>& entries, bool cut) {
    std::string out;
    std::unique_ptr<archive, decltype(&archive_write_free)> writer(archive_write_new(),
                                                                   &archive_write_free);
    archive_write_set_format_pax_restricted(writer.get());
    archive_write_set_bytes_per_block(writer.get(), 0);
    const auto append = [](archive*, void* client, const void* buffer, size_t length) {
        static_cast<std::string*>(client)->append(static_cast<const char*>(buffer), length);
        return static_cast<la_ssize_t>(length);
    };
    if (archive_write_open(writer.get(), &out, nullptr, append, nullptr) != ARCHIVE_OK) {
        throw std::runtime_error("cannot open a tar writer");
    }
    for (const auto& item : entries) {
        std::unique_ptr<archive_entry, decltype(&archive_entry_free)> entry(archive_entry_new(),
                                                                            &archive_entry_free);
        archive_entry_set_pathname(entry.get(), item.path.c_str());
        archive_entry_set_filetype(entry.get(), item.type);
        archive_entry_set_perm(entry.get(), item.mode);
        archive_entry_set_mtime(entry.get(), 1700000000, 0);
        if (!item.link.empty()) {
            archive_entry_set_symlink(entry.get(), item.link.c_str());
        }
        if (!item.hardlink.empty()) {
            archive_entry_set_hardlink(entry.get(), item.hardlink.c_str());
        }
        if (item.type == AE_IFCHR || item.type == AE_IFBLK) {
            archive_entry_set_rdev(entry.get(), makedev(1, 3));
        }
        const bool file = item.type == AE_IFREG && item.hardlink.empty();
        archive_entry_set_size(entry.get(), file ? static_cast<la_int64_t>(item.data.size()) : 0);
        if (archive_write_header(writer.get(), entry.get()) != ARCHIVE_OK) {
            throw std::runtime_error(archive_error_string(writer.get()));
        }
        if (file && !item.data.empty()) {
            archive_write_data(writer.get(), item.data.data(), item.data.size());
        }
    }
    archive_write_close(writer.get());
    if (cut) {
        out.resize(out.size() - 1024); // the two zero blocks that end a tar
    }
    return out;
}

/// One gzip member holding `data`.
inline std::string gzip(std::string_view data) {
    z_stream stream{};
    if (deflateInit2(&stream, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        throw std::runtime_error("deflateInit2");
    }
    std::string out(deflateBound(&stream, static_cast<uLong>(data.size())) + 64, '\0');
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    stream.avail_in = static_cast<uInt>(data.size());
    stream.next_out = reinterpret_cast<Bytef*>(out.data());
    stream.avail_out = static_cast<uInt>(out.size());
    if (deflate(&stream, Z_FINISH) != Z_STREAM_END) {
        throw std::runtime_error("deflate");
    }
    out.resize(stream.total_out);
    deflateEnd(&stream);
    return out;
}

/// The compressed bytes of each gzip member of `file`, found with zlib alone.
inline std::vector<std::string> members_of(std::string_view file) {
    std::vector<std::string> out;
    std::size_t offset = 0;
    std::string scratch(1 << 16, '\0');
    while (offset < file.size()) {
        z_stream stream{};
        inflateInit2(&stream, 16 + MAX_WBITS);
        stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(file.data() + offset));
        stream.avail_in = static_cast<uInt>(file.size() - offset);
        int status = Z_OK;
        while (status == Z_OK) {
            stream.next_out = reinterpret_cast<Bytef*>(scratch.data());
            stream.avail_out = static_cast<uInt>(scratch.size());
            status = inflate(&stream, Z_NO_FLUSH);
        }
        const auto used = static_cast<std::size_t>(stream.total_in);
        inflateEnd(&stream);
        if (status != Z_STREAM_END) {
            throw std::runtime_error("not gzip members");
        }
        out.emplace_back(file.substr(offset, used));
        offset += used;
    }
    return out;
}

/// A package: a signature member with a (fake) signature entry, a control member with
/// `pkginfo` followed by the datahash of the data member, and `extra_control` entries, and a
/// data member of `data` entries.
inline std::string make_apk(const std::vector<TarEntry>& data, const std::string& pkginfo,
                            const std::vector<TarEntry>& extra_control = {}) {
    const std::string data_member = gzip(make_tar(data, false));
    std::vector<TarEntry> control{
        {".PKGINFO", pkginfo + "datahash = " + core::sha256_hex(data_member) + "\n"}};
    control.insert(control.end(), extra_control.begin(), extra_control.end());
    const std::string signature =
        gzip(make_tar({{".SIGN.RSA.test.rsa.pub", std::string(256, 's')}}, true));
    return signature + gzip(make_tar(control, true)) + data_member;
}

/// A plain .PKGINFO without its datahash.
inline std::string pkginfo(const std::string& name = "crafted") {
    return "pkgname = " + name +
           "\npkgver = 1.0-r0\narch = x86_64\nsize = 100\nbuilddate = 1700000000\n";
}

/// The rows of the Alpine fixtures' MANIFEST.tsv: path -> column name -> value, and for each
/// `key=value` or `C:value` of its details column, that key too.
inline std::map<std::string, std::map<std::string, std::string>> manifest_rows() {
    std::ifstream in(testdata_dir() / "alpine" / "MANIFEST.tsv");
    std::string line;
    std::getline(in, line);
    std::vector<std::string> columns;
    {
        std::istringstream header(line);
        for (std::string column; std::getline(header, column, '\t');) {
            columns.push_back(column);
        }
    }
    std::map<std::string, std::map<std::string, std::string>> rows;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::map<std::string, std::string> row;
        std::size_t i = 0;
        for (std::string field; std::getline(fields, field, '\t'); ++i) {
            if (i < columns.size()) {
                row[columns[i]] = field;
            }
            if (i + 1 < columns.size()) {
                continue; // the details column and what follows it hold key=value pairs
            }
            std::istringstream words(field);
            for (std::string word; words >> word;) {
                if (word.starts_with("C:")) {
                    row["C"] = word.substr(2);
                } else if (const auto eq = word.find('='); eq != std::string::npos) {
                    row[word.substr(0, eq)] = word.substr(eq + 1);
                }
            }
        }
        rows[row["path"]] = std::move(row);
    }
    return rows;
}

/// A throw-away RSA key: its PEM public key, and a signer of data with it.
class TestKey {
public:
    TestKey()
        : m_key(EVP_RSA_gen(2048), &EVP_PKEY_free) {
        std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
        PEM_write_bio_PUBKEY(bio.get(), m_key.get());
        char* data = nullptr;
        const long size = BIO_get_mem_data(bio.get(), &data);
        m_pem.assign(data, static_cast<std::size_t>(size));
    }
    [[nodiscard]] const std::string& pem() const { return m_pem; }
    [[nodiscard]] std::string sign(const std::string& data, const EVP_MD* digest) const {
        std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                        &EVP_MD_CTX_free);
        EVP_DigestSignInit(context.get(), nullptr, digest, nullptr, m_key.get());
        std::size_t size = 0;
        const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
        EVP_DigestSign(context.get(), nullptr, &size, bytes, data.size());
        std::string out(size, '\0');
        EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(out.data()), &size, bytes,
                       data.size());
        out.resize(size);
        return out;
    }

private:
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> m_key;
    std::string m_pem;
};

} // namespace distill::test::apk
