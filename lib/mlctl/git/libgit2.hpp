#pragma once

// What the files of lib/mlctl/git share about libgit2: owning handles, opening a repository,
// error text, ids and signatures. Included only by lib/mlctl/git (libgit2's headers are private
// to the library).
#include <mlctl/core/error.hpp>

#include <git2.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace mlctl::git {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
template <typename T, void (*Free)(T*)>
using Handle = std::unique_ptr<T, Deleter<T, Free>>;

using Repository = Handle<git_repository, git_repository_free>;
using Reference = Handle<git_reference, git_reference_free>;
using Object = Handle<git_object, git_object_free>;
using Commit = Handle<git_commit, git_commit_free>;
using Tree = Handle<git_tree, git_tree_free>;
using TreeEntry = Handle<git_tree_entry, git_tree_entry_free>;
using Blob = Handle<git_blob, git_blob_free>;
using Index = Handle<git_index, git_index_free>;
using Signature = Handle<git_signature, git_signature_free>;
using StatusList = Handle<git_status_list, git_status_list_free>;
using Remote = Handle<git_remote, git_remote_free>;
using Config = Handle<git_config, git_config_free>;

// Calls git_libgit2_init once per process.
void ensure_initialised();

// libgit2's message for the last failure on this thread.
std::string last_error();

// "what: <libgit2's message>" as an Error of kind `code`.
std::unexpected<Error> git_fail(Errc code, std::string_view what);

// The repository that contains `path` (searched upward); not_found outside one.
Result<Repository> open_repository(const std::filesystem::path& path);

// Like open_repository, but precondition for a bare repository (mlctl writes work trees).
Result<Repository> open_work_tree(const std::filesystem::path& path);

// The work tree's top folder, as libgit2 gives it (with a trailing '/').
std::filesystem::path workdir(git_repository* repo);

// The full hexadecimal id, and the 7-character one git shows.
std::string oid_string(const git_oid* id);
std::string short_id(const git_oid* id);

// The commit a revision names (anything git_revparse_single accepts: HEAD, main~2, v1.0, an id);
// not_found naming `revision` when there is none.
Result<Commit> resolve_commit(git_repository* repo, const std::string& revision);

// user.name and user.email from the repository's configuration (local, global, system), or
// "mlctl <mlctl@localhost>" when they are not set, timed now.
Result<Signature> default_signature(git_repository* repo);

// A commit or tag message as git writes one, ending in a line break (libgit2 writes it as given).
std::string git_message(std::string_view message);

// What `get` (git_config_get_string_buf, or git_config_get_path which expands "~/") reads for
// `name`; nullopt when it is not set, empty, or cannot be read.
using ConfigGetter = int (*)(git_buf*, const git_config*, const char*);
std::optional<std::string> config_string(const git_config* config, const char* name, ConfigGetter get);

}  // namespace mlctl::git
