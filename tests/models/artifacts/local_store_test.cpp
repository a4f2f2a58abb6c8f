#include <mlctl/models/archive.hpp>
#include <mlctl/models/artifact_store.hpp>

#include "tree.hpp"

#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>

namespace mlctl::models {
namespace {

namespace fs = std::filesystem;
using test::describe_tree;
using test::list_folder;
using test::sha256sum;

class LocalStoreTest : public ::testing::Test {
protected:
  std::unique_ptr<ArtifactStore> open() {
    auto store = open_artifact_store("", {.project_root = dir_.path()});
    EXPECT_TRUE(store.has_value()) << store.error().message();
    return std::move(*store);
  }
  fs::path objects() const { return dir_.path() / ".mlctl" / "artifacts" / "sha256"; }

  test::TempDir dir_;
  test::RecordingReporter reporter_;
};

TEST_F(LocalStoreTest, FileDigestIsTheSha256sumOfItsBytes) {
  fs::path model = dir_.write("model.pkl", "pickled weights\n");
  auto stored = open()->put(model, reporter_);
  ASSERT_TRUE(stored) << stored.error().message();
  std::string expected = sha256sum(model);
  EXPECT_EQ(stored->digest, expected);
  EXPECT_EQ(stored->size, 16u);
  EXPECT_FALSE(stored->directory);
  EXPECT_EQ(stored->uri, "file://" + (objects() / expected.substr(7)).string());
  EXPECT_EQ(sha256sum(objects() / expected.substr(7)), expected);
  EXPECT_EQ(dir_.read(".mlctl/.gitignore"), "*\n");
}

TEST_F(LocalStoreTest, StoringTheSameContentTwiceChangesNothing) {
  fs::path model = dir_.write("model.pkl", "same bytes");
  auto store = open();
  auto first = store->put(model, reporter_);
  ASSERT_TRUE(first) << first.error().message();
  struct stat before {};
  ASSERT_EQ(::stat((objects() / first->digest.substr(7)).c_str(), &before), 0);
  auto second = store->put(dir_.write("copy.pkl", "same bytes"), reporter_);
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_EQ(second->uri, first->uri);
  EXPECT_EQ(second->digest, first->digest);
  struct stat after {};
  ASSERT_EQ(::stat((objects() / first->digest.substr(7)).c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);
  EXPECT_EQ(list_folder(objects()), std::vector<std::string>{first->digest.substr(7)});  // no temporary left
}

// What a put killed by SIGKILL leaves (its temporary file) goes with the next put once it is an
// hour old; a younger one may be another process's put in progress and stays.
TEST_F(LocalStoreTest, APutRemovesTemporaryFilesOfKilledPutsOnly) {
  fs::path temps = objects().parent_path() / "tmp";
  fs::create_directories(temps);
  fs::path killed = temps / ".put-Ab12Cd", running = temps / ".put-Ef34Gh";
  std::ofstream(killed) << "half of a model";
  std::ofstream(running) << "half of another";
  fs::last_write_time(killed, fs::file_time_type::clock::now() - std::chrono::minutes(61));
  fs::last_write_time(running, fs::file_time_type::clock::now() - std::chrono::minutes(59));
  auto stored = open()->put(dir_.write("model.pkl", "weights"), reporter_);
  ASSERT_TRUE(stored) << stored.error().message();
  EXPECT_EQ(list_folder(temps), (std::vector<std::string>{".put-Ef34Gh"}));
  EXPECT_EQ(list_folder(objects()), (std::vector<std::string>{stored->digest.substr(7)}));
}

TEST_F(LocalStoreTest, DirectoryRoundTripGivesTheSameTree) {
  test::make_model_tree(dir_ / "model");
  auto store = open();
  auto stored = store->put(dir_ / "model", reporter_);
  ASSERT_TRUE(stored) << stored.error().message();
  EXPECT_TRUE(stored->directory);
  fs::path object = objects() / stored->digest.substr(7);
  EXPECT_EQ(sha256sum(object), stored->digest);
  EXPECT_EQ(stored->size, fs::file_size(object));
  // GNU tar reads the stored object as an ordinary archive with the tree in it.
  auto listed = test::run_command({"tar", "-tf", object.string()}, dir_.path());
  ASSERT_TRUE(listed.ok()) << listed.err;
  EXPECT_NE(listed.out.find("weights/layer0/w.bin\n"), std::string::npos) << listed.out;

  auto got = store->get(*stored, dir_ / "out" / "model", reporter_);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(describe_tree(dir_ / "out" / "model"), describe_tree(dir_ / "model"));
  EXPECT_EQ(describe_tree(dir_ / "out" / "model").at("serve.sh"), "file 0755 #!/bin/sh\nexec python -m serve\n");
  EXPECT_EQ(describe_tree(dir_ / "out" / "model").at("current.bin"), "link -> weights/layer0/w.bin");
  EXPECT_EQ(list_folder(dir_ / "out"), std::vector<std::string>{"model"});
}

TEST_F(LocalStoreTest, FileRoundTripGivesTheSameBytes) {
  fs::path model = dir_.write("model.onnx", std::string("\0onnx\xff", 6));
  auto store = open();
  auto stored = store->put(model, reporter_);
  ASSERT_TRUE(stored);
  ASSERT_TRUE(store->get(*stored, dir_ / "pulled.onnx", reporter_));
  EXPECT_EQ(dir_.read("pulled.onnx"), std::string("\0onnx\xff", 6));
}

TEST_F(LocalStoreTest, TheSameTreeMadeInAnotherOrderHasTheSameDigest) {
  test::make_model_tree(dir_ / "a");
  fs::create_directories(dir_ / "b");
  // Made in reverse, at another time: neither order nor mtimes may change the digest.
  fs::create_symlink("../model.json", (fs::create_directories(dir_ / "b" / "weights"), dir_ / "b" / "weights" / "config.json"));
  fs::copy(dir_ / "a" / "weights" / "layer0", dir_ / "b" / "weights" / "layer0");
  fs::copy(dir_ / "a" / "weights" / (std::string(120, 'n') + ".txt"), dir_ / "b" / "weights" / (std::string(120, 'n') + ".txt"));
  fs::create_directories(dir_ / "b" / "empty");
  fs::create_symlink("weights/layer0/w.bin", dir_ / "b" / "current.bin");
  fs::copy(dir_ / "a" / "serve.sh", dir_ / "b" / "serve.sh");
  fs::copy(dir_ / "a" / "model.json", dir_ / "b" / "model.json");
  auto a = directory_digest(dir_ / "a");
  auto b = directory_digest(dir_ / "b");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->digest, b->digest);
  EXPECT_EQ(a->size, b->size);
}

TEST_F(LocalStoreTest, SymlinksLeadingOutOfTheDirectoryAreRefused) {
  for (const char* target : {"../outside.txt", "/etc/passwd", "weights/../../x"}) {
    test::TempDir dir;
    fs::create_directories(dir / "model" / "weights");
    fs::create_symlink(target, dir / "model" / "link");
    auto stored = open()->put(dir / "model", reporter_);
    ASSERT_FALSE(stored) << target;
    EXPECT_EQ(stored.error().code(), Errc::invalid) << target;
    EXPECT_NE(stored.error().message().find("points outside"), std::string::npos) << stored.error().message();
  }
  EXPECT_EQ(list_folder(objects()), std::vector<std::string>{});
}

TEST_F(LocalStoreTest, MissingSourceIsNotFound) {
  auto stored = open()->put(dir_ / "nope.pkl", reporter_);
  ASSERT_FALSE(stored);
  EXPECT_EQ(stored.error().code(), Errc::not_found);
}

TEST_F(LocalStoreTest, GetNeverOverwritesAnExistingDestination) {
  auto store = open();
  auto stored = store->put(dir_.write("m.bin", "new"), reporter_);
  ASSERT_TRUE(stored);
  dir_.write("dest.bin", "precious");
  auto got = store->get(*stored, dir_ / "dest.bin", reporter_);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), Errc::precondition);
  EXPECT_EQ(dir_.read("dest.bin"), "precious");
}

TEST_F(LocalStoreTest, ADamagedObjectFailsTheDigestCheckAndLeavesNothing) {
  test::make_model_tree(dir_ / "model");
  auto store = open();
  auto file = store->put(dir_.write("m.bin", "original"), reporter_);
  auto tree = store->put(dir_ / "model", reporter_);
  ASSERT_TRUE(file && tree);
  for (const auto* artifact : {&*file, &*tree}) {
    fs::path object = objects() / artifact->digest.substr(7);
    fs::permissions(object, fs::perms(0644));
    std::ofstream(object, std::ios::binary | std::ios::app) << "tampered";
  }
  fs::create_directories(dir_ / "out");
  for (const auto* artifact : {&*file, &*tree}) {
    auto got = store->get(*artifact, dir_ / "out" / "x", reporter_);
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error().code(), Errc::failed);
    EXPECT_NE(got.error().message().find("digest mismatch: expected " + artifact->digest), std::string::npos)
        << got.error().message();
  }
  EXPECT_EQ(list_folder(dir_ / "out"), std::vector<std::string>{});
}

TEST_F(LocalStoreTest, UnknownSchemesAreRefused) {
  auto store = open_artifact_store("gs://bucket/models", {.project_root = dir_.path()});
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code(), Errc::invalid);
}

}  // namespace
}  // namespace mlctl::models
