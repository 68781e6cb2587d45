// The pipeline's steps on a real signed repository read through file:// (the mopidy archive of
// ../shared/testdata/deb): the session, the resolve step from a lock and from the indexes (an
// unsolvable request comes back as data), and fetch -> unpack -> assemble -> layer on a plan.
#include <algorithm>
#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <distill/core/digest.hpp>
#include <distill/core/fs.hpp>
#include <distill/core/parallel.hpp>
#include <distill/distro/distro.hpp>
#include <distill/lock/lock.hpp>
#include <distill/pipeline/steps.hpp>

#include "support.hpp"

namespace distill::pipeline {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

TEST(PipelineSession, JobsReachThreadsAndDownloads) {
    const test::ScratchDir scratch;
    core::NullReporter reporter;
    const Session defaults(Session::Options{scratch.path() / "cache", 0, {}}, reporter);
    EXPECT_EQ(defaults.jobs(), core::default_jobs());
    EXPECT_EQ(defaults.transfers(), k_default_transfers);
    EXPECT_EQ(defaults.epoch(), std::nullopt);
    EXPECT_TRUE(fs::is_directory(scratch.path() / "cache"));
    const Session three(Session::Options{scratch.path() / "cache", 3, 1234567890}, reporter);
    EXPECT_EQ(three.jobs(), 3);
    EXPECT_EQ(three.transfers(), 3);
    EXPECT_EQ(three.epoch(), 1234567890);
    EXPECT_EQ(three.cache().root(), scratch.path() / "cache");
}

class PipelineSteps : public test::ScratchTest {
protected:
    void SetUp() override { DISTILL_REQUIRE_TESTDATA("deb/mopidy-repo/dists/bookworm/InRelease"); }

    static fs::path repo() { return test::testdata_dir() / "deb" / "mopidy-repo"; }

    /// A manifest reading the mopidy archive through file://, asking for `package`.
    manifest::Loaded manifest(const std::string& package) const {
        const auto path =
            write("app.yaml", "name: app\ndistro: debian\nrelease: bookworm\n"
                              "archs: [amd64]\nsources:\n  - url: file://" +
                                  repo().string() + "\n    suites: [bookworm]\n    keyring: " +
                                  (repo() / "mopidy-archive-keyring.gpg").string() +
                                  "\npackages: [" + package + "]\n");
        return distro::load_manifest(path);
    }

    /// A plan of one package of the archive, as the resolver would make it.
    static resolve::Plan plan_of(const std::string& name, const std::string& file) {
        const auto path = repo() / "pool" / "main" / "m" / "mopidy" / file;
        package::Record record;
        record.name = name;
        record.version = "3.4.2-2";
        record.arch = "all";
        record.installed_size = 2U << 20U;
        record.download_size = fs::file_size(path);
        record.sha256 = core::file_hex_digest(path);
        record.url = "file://" + path.string();
        record.suite = "bookworm";
        record.source = "mopidy";
        record.why = {name};
        return resolve::Plan{"amd64", {record}, {}, {}};
    }

    Session session(int jobs = 2) {
        return Session(Session::Options{scratch() / "cache", jobs, {}}, m_reporter);
    }

    core::NullReporter m_reporter;
};

TEST_F(PipelineSteps, AMatchingLockIsUsedOnlyWhenTheSignedIndexesGiveIt) {
    const auto loaded = manifest("mopidy");
    const auto lock_path = lock::path_for(loaded.path);
    // A lock made by hand: it matches the manifest, but no signed index vouches for it (mopidy
    // needs packages this archive does not have).
    lock::write(lock_path,
                lock::make(loaded.manifest, {plan_of("mopidy", "mopidy_3.4.2-2_all.deb")}, {}));
    auto s = session();
    for (const auto mode : {LockMode::automatic, LockMode::frozen}) {
        try {
            (void)resolve_packages(s, loaded, {}, LockSettings{mode, {}});
            FAIL() << "a lock nothing vouches for was used";
        } catch (const Error& e) {
            EXPECT_EQ(e.exit_code(), ExitCode::verification);
            EXPECT_THAT(e.what(), HasSubstr(lock_path.string()));
            EXPECT_THAT(e.what(), HasSubstr("distill lock --update"));
        }
    }

    // --frozen refuses a lock the manifest has moved away from.
    write("app.yaml", core::read_file(loaded.path) + "exclude: [bash]\n");
    const auto changed = distro::load_manifest(loaded.path);
    try {
        (void)resolve_packages(s, changed, {}, LockSettings{LockMode::frozen, {}});
        FAIL() << "--frozen accepted a lock of another manifest";
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), ExitCode::lock_mismatch);
        EXPECT_THAT(e.what(), HasSubstr("does not match"));
    }
}

TEST_F(PipelineSteps, AnUnsolvableRequestComesBackAsData) {
    const auto loaded = manifest("mopidy-doc");
    auto s = session();
    // plan: the problems are in the result.
    const auto planned = plan(s, loaded, {});
    ASSERT_EQ(planned.archs.size(), 1U);
    EXPECT_FALSE(planned.solved());
    // resolve_packages (build, lock): the same problems, as a typed error.
    try {
        (void)resolve_packages(s, loaded, {}, LockSettings{});
        FAIL() << "an unsolvable request resolved";
    } catch (const resolve::UnsolvableError& e) {
        EXPECT_EQ(e.exit_code(), ExitCode::unsolvable);
        EXPECT_EQ(e.name(), "app");
        ASSERT_EQ(e.unsolved().size(), 1U);
        EXPECT_EQ(e.unsolved()[0].arch, "amd64");
        EXPECT_EQ(e.unsolved()[0].problems.size(), planned.archs[0].resolution.problems.size());
        EXPECT_THAT(e.unsolved()[0].problems[0].summary, HasSubstr("libjs-sphinxdoc"));
        EXPECT_THAT(e.what(), HasSubstr("cannot resolve the packages of app"));
    }
    EXPECT_FALSE(fs::exists(lock::path_for(loaded.path)));
}

TEST_F(PipelineSteps, FetchUnpackAssembleLayerFillTheRecord) {
    const auto loaded = manifest("mopidy");
    auto s = session();
    auto plan = plan_of("mopidy", "mopidy_3.4.2-2_all.deb");
    const auto& record = plan.packages[0];
    const auto& distro = distro::get(loaded.manifest);

    fetch(s, distro, plan, LockUse{});
    EXPECT_EQ(record.file, s.cache().blob_path(record.sha256));
    EXPECT_EQ(core::file_hex_digest(record.file), record.sha256);
    EXPECT_EQ(package::remembered_file(s.cache(), "mopidy", "3.4.2-2", "all"), record.sha256);

    unpack(s, distro, plan);
    ASSERT_NE(record.contents, nullptr);
    EXPECT_THAT(record.contents->control, HasSubstr("Package: mopidy\n"));
    EXPECT_TRUE(record.contents->scripts.contains("postinst"));
    EXPECT_TRUE(plan.warnings.empty()); // its scripts download nothing
    EXPECT_GT(newest_build_date({plan}), 0);

    const auto tree = assemble(s, distro, loaded.manifest, plan, 0);
    ASSERT_EQ(tree.packages().size(), 1U);
    const auto& shipped = tree.packages()[0].paths;
    EXPECT_TRUE(std::any_of(shipped.begin(), shipped.end(), [](const unpack::ShippedPath& p) {
        return p.path == "usr/share/doc/mopidy/copyright";
    }));
    EXPECT_THAT(tree.read("var/lib/dpkg/status"), HasSubstr("Package: mopidy\nStatus: install"));
    EXPECT_NE(tree.find("etc/passwd"), nullptr);

    image::LayoutWriter layout(scratch() / "layout");
    auto image = layer(s, loaded.manifest, plan, tree, 0, image::Compression::gzip, layout, true);
    EXPECT_EQ(image.arch, "amd64");
    EXPECT_EQ(image.packages, 1U);
    EXPECT_EQ(image.platform.architecture, "amd64");
    EXPECT_TRUE(fs::exists(layout.blobs_dir() / image.layer.blob.digest.substr(7)));
    EXPECT_TRUE(fs::exists(layout.blobs_dir() / image.manifest.digest.substr(7)));
    EXPECT_EQ(image.layer.sha1.size(), image.layer.files);

    // The SBOM step: both documents, each with its artifact, in the layout.
    sbom(s, distro, loaded.manifest, tree, 0, image, &layout);
    ASSERT_EQ(image.sboms.size(), 2U);
    EXPECT_EQ(image.sboms[0].format, "spdx");
    EXPECT_THAT(image.sboms[0].bytes, HasSubstr("\"name\": \"mopidy\""));
    EXPECT_THAT(image.sboms[1].bytes, HasSubstr("pkg:deb/debian/mopidy@3.4.2-2?arch=all"));
    for (const auto& stored : image.sboms) {
        EXPECT_TRUE(fs::exists(layout.blobs_dir() / stored.document.digest.substr(7)));
        EXPECT_TRUE(fs::exists(layout.blobs_dir() / stored.artifact.digest.substr(7)));
    }
}

} // namespace
} // namespace distill::pipeline
