// libgit2's functions that mlctl calls, loaded on first use (see core/lazy_library.hpp).
#include <mlctl/core/lazy_library.hpp>

#include <git2.h>

namespace {

mlctl::core::LazyLibrary& libgit2() {
  static mlctl::core::LazyLibrary library("libgit2.so." LIBGIT2_SOVERSION);
  return library;
}

}  // namespace

extern "C" {

int git_libgit2_init() {
  MLCTL_REAL_FUNCTION(libgit2(), git_libgit2_init);
  return real();
}

const git_error* git_error_last() {
  MLCTL_REAL_FUNCTION(libgit2(), git_error_last);
  return real();
}

int git_repository_open_ext(git_repository** out, const char* path, unsigned int flags, const char* ceiling_dirs) {
  MLCTL_REAL_FUNCTION(libgit2(), git_repository_open_ext);
  return real(out, path, flags, ceiling_dirs);
}

void git_repository_free(git_repository* repository) {
  MLCTL_REAL_FUNCTION(libgit2(), git_repository_free);
  real(repository);
}

int git_repository_is_bare(const git_repository* repository) {
  MLCTL_REAL_FUNCTION(libgit2(), git_repository_is_bare);
  return real(repository);
}

const char* git_repository_workdir(const git_repository* repository) {
  MLCTL_REAL_FUNCTION(libgit2(), git_repository_workdir);
  return real(repository);
}

const char* git_repository_path(const git_repository* repository) {
  MLCTL_REAL_FUNCTION(libgit2(), git_repository_path);
  return real(repository);
}

const char* git_repository_commondir(const git_repository* repository) {
  MLCTL_REAL_FUNCTION(libgit2(), git_repository_commondir);
  return real(repository);
}

int git_repository_head(git_reference** out, git_repository* repository) {
  MLCTL_REAL_FUNCTION(libgit2(), git_repository_head);
  return real(out, repository);
}

int git_repository_head_detached(git_repository* repository) {
  MLCTL_REAL_FUNCTION(libgit2(), git_repository_head_detached);
  return real(repository);
}

int git_reference_lookup(git_reference** out, git_repository* repository, const char* name) {
  MLCTL_REAL_FUNCTION(libgit2(), git_reference_lookup);
  return real(out, repository, name);
}

const char* git_reference_symbolic_target(const git_reference* reference) {
  MLCTL_REAL_FUNCTION(libgit2(), git_reference_symbolic_target);
  return real(reference);
}

const char* git_reference_shorthand(const git_reference* reference) {
  MLCTL_REAL_FUNCTION(libgit2(), git_reference_shorthand);
  return real(reference);
}

int git_reference_peel(git_object** out, const git_reference* reference, git_object_t type) {
  MLCTL_REAL_FUNCTION(libgit2(), git_reference_peel);
  return real(out, reference, type);
}

void git_reference_free(git_reference* reference) {
  MLCTL_REAL_FUNCTION(libgit2(), git_reference_free);
  real(reference);
}

const git_oid* git_commit_id(const git_commit* commit) {
  MLCTL_REAL_FUNCTION(libgit2(), git_commit_id);
  return real(commit);
}

git_time_t git_commit_time(const git_commit* commit) {
  MLCTL_REAL_FUNCTION(libgit2(), git_commit_time);
  return real(commit);
}

const git_signature* git_commit_author(const git_commit* commit) {
  MLCTL_REAL_FUNCTION(libgit2(), git_commit_author);
  return real(commit);
}

void git_commit_free(git_commit* commit) {
  MLCTL_REAL_FUNCTION(libgit2(), git_commit_free);
  real(commit);
}

char* git_oid_tostr(char* out, size_t size, const git_oid* id) {
  MLCTL_REAL_FUNCTION(libgit2(), git_oid_tostr);
  return real(out, size, id);
}

int git_status_list_new(git_status_list** out, git_repository* repository, const git_status_options* options) {
  MLCTL_REAL_FUNCTION(libgit2(), git_status_list_new);
  return real(out, repository, options);
}

size_t git_status_list_entrycount(git_status_list* list) {
  MLCTL_REAL_FUNCTION(libgit2(), git_status_list_entrycount);
  return real(list);
}

void git_status_list_free(git_status_list* list) {
  MLCTL_REAL_FUNCTION(libgit2(), git_status_list_free);
  real(list);
}

int git_remote_lookup(git_remote** out, git_repository* repository, const char* name) {
  MLCTL_REAL_FUNCTION(libgit2(), git_remote_lookup);
  return real(out, repository, name);
}

const char* git_remote_url(const git_remote* remote) {
  MLCTL_REAL_FUNCTION(libgit2(), git_remote_url);
  return real(remote);
}

void git_remote_free(git_remote* remote) {
  MLCTL_REAL_FUNCTION(libgit2(), git_remote_free);
  real(remote);
}

int git_config_open_default(git_config** out) {
  MLCTL_REAL_FUNCTION(libgit2(), git_config_open_default);
  return real(out);
}

int git_config_get_string_buf(git_buf* out, const git_config* config, const char* name) {
  MLCTL_REAL_FUNCTION(libgit2(), git_config_get_string_buf);
  return real(out, config, name);
}

void git_config_free(git_config* config) {
  MLCTL_REAL_FUNCTION(libgit2(), git_config_free);
  real(config);
}

void git_buf_dispose(git_buf* buffer) {
  MLCTL_REAL_FUNCTION(libgit2(), git_buf_dispose);
  real(buffer);
}

void git_blob_free(git_blob* blob) {
  MLCTL_REAL_FUNCTION(libgit2(), git_blob_free);
  real(blob);
}

int git_blob_lookup(git_blob** blob, git_repository* repo, const git_oid* id) {
  MLCTL_REAL_FUNCTION(libgit2(), git_blob_lookup);
  return real(blob, repo, id);
}

const void* git_blob_rawcontent(const git_blob* blob) {
  MLCTL_REAL_FUNCTION(libgit2(), git_blob_rawcontent);
  return real(blob);
}

git_object_size_t git_blob_rawsize(const git_blob* blob) {
  MLCTL_REAL_FUNCTION(libgit2(), git_blob_rawsize);
  return real(blob);
}

int git_commit_create(git_oid* id, git_repository* repo, const char* update_ref, const git_signature* author,
                      const git_signature* committer, const char* message_encoding, const char* message,
                      const git_tree* tree, size_t parent_count, const git_commit* parents[]) {
  MLCTL_REAL_FUNCTION(libgit2(), git_commit_create);
  return real(id, repo, update_ref, author, committer, message_encoding, message, tree, parent_count, parents);
}

int git_commit_parent(git_commit** out, const git_commit* commit, unsigned int n) {
  MLCTL_REAL_FUNCTION(libgit2(), git_commit_parent);
  return real(out, commit, n);
}

unsigned int git_commit_parentcount(const git_commit* commit) {
  MLCTL_REAL_FUNCTION(libgit2(), git_commit_parentcount);
  return real(commit);
}

int git_commit_tree(git_tree** tree_out, const git_commit* commit) {
  MLCTL_REAL_FUNCTION(libgit2(), git_commit_tree);
  return real(tree_out, commit);
}

const git_oid* git_commit_tree_id(const git_commit* commit) {
  MLCTL_REAL_FUNCTION(libgit2(), git_commit_tree_id);
  return real(commit);
}

int git_config_get_path(git_buf* out, const git_config* cfg, const char* name) {
  MLCTL_REAL_FUNCTION(libgit2(), git_config_get_path);
  return real(out, cfg, name);
}

int git_credential_ssh_key_from_agent(git_credential** out, const char* username) {
  MLCTL_REAL_FUNCTION(libgit2(), git_credential_ssh_key_from_agent);
  return real(out, username);
}

int git_credential_userpass_plaintext_new(git_credential** out, const char* username, const char* password) {
  MLCTL_REAL_FUNCTION(libgit2(), git_credential_userpass_plaintext_new);
  return real(out, username, password);
}

int git_error_set_str(int error_class, const char* string) {
  MLCTL_REAL_FUNCTION(libgit2(), git_error_set_str);
  return real(error_class, string);
}

int git_index_add_bypath(git_index* index, const char* path) {
  MLCTL_REAL_FUNCTION(libgit2(), git_index_add_bypath);
  return real(index, path);
}

size_t git_index_entrycount(const git_index* index) {
  MLCTL_REAL_FUNCTION(libgit2(), git_index_entrycount);
  return real(index);
}

void git_index_free(git_index* index) {
  MLCTL_REAL_FUNCTION(libgit2(), git_index_free);
  real(index);
}

const git_index_entry* git_index_get_byindex(git_index* index, size_t n) {
  MLCTL_REAL_FUNCTION(libgit2(), git_index_get_byindex);
  return real(index, n);
}

int git_index_remove_bypath(git_index* index, const char* path) {
  MLCTL_REAL_FUNCTION(libgit2(), git_index_remove_bypath);
  return real(index, path);
}

int git_index_write(git_index* index) {
  MLCTL_REAL_FUNCTION(libgit2(), git_index_write);
  return real(index);
}

int git_index_write_tree(git_oid* out, git_index* index) {
  MLCTL_REAL_FUNCTION(libgit2(), git_index_write_tree);
  return real(out, index);
}

void git_object_free(git_object* object) {
  MLCTL_REAL_FUNCTION(libgit2(), git_object_free);
  real(object);
}

int git_object_peel(git_object** peeled, const git_object* object, git_object_t target_type) {
  MLCTL_REAL_FUNCTION(libgit2(), git_object_peel);
  return real(peeled, object, target_type);
}

int git_oid_equal(const git_oid* a, const git_oid* b) {
  MLCTL_REAL_FUNCTION(libgit2(), git_oid_equal);
  return real(a, b);
}

int git_reference_name_is_valid(int* valid, const char* refname) {
  MLCTL_REAL_FUNCTION(libgit2(), git_reference_name_is_valid);
  return real(valid, refname);
}

int git_remote_push(git_remote* remote, const git_strarray* refspecs, const git_push_options* opts) {
  MLCTL_REAL_FUNCTION(libgit2(), git_remote_push);
  return real(remote, refspecs, opts);
}

const char* git_remote_pushurl(const git_remote* remote) {
  MLCTL_REAL_FUNCTION(libgit2(), git_remote_pushurl);
  return real(remote);
}

int git_repository_config_snapshot(git_config** out, git_repository* repo) {
  MLCTL_REAL_FUNCTION(libgit2(), git_repository_config_snapshot);
  return real(out, repo);
}

int git_repository_head_unborn(git_repository* repo) {
  MLCTL_REAL_FUNCTION(libgit2(), git_repository_head_unborn);
  return real(repo);
}

int git_repository_index(git_index** out, git_repository* repo) {
  MLCTL_REAL_FUNCTION(libgit2(), git_repository_index);
  return real(out, repo);
}

int git_repository_item_path(git_buf* out, const git_repository* repo, git_repository_item_t item) {
  MLCTL_REAL_FUNCTION(libgit2(), git_repository_item_path);
  return real(out, repo, item);
}

int git_revparse_single(git_object** out, git_repository* repo, const char* spec) {
  MLCTL_REAL_FUNCTION(libgit2(), git_revparse_single);
  return real(out, repo, spec);
}

int git_signature_default(git_signature** out, git_repository* repo) {
  MLCTL_REAL_FUNCTION(libgit2(), git_signature_default);
  return real(out, repo);
}

void git_signature_free(git_signature* sig) {
  MLCTL_REAL_FUNCTION(libgit2(), git_signature_free);
  real(sig);
}

int git_signature_now(git_signature** out, const char* name, const char* email) {
  MLCTL_REAL_FUNCTION(libgit2(), git_signature_now);
  return real(out, name, email);
}

const git_status_entry* git_status_byindex(git_status_list* statuslist, size_t idx) {
  MLCTL_REAL_FUNCTION(libgit2(), git_status_byindex);
  return real(statuslist, idx);
}

int git_tag_create(git_oid* oid, git_repository* repo, const char* tag_name, const git_object* target,
                   const git_signature* tagger, const char* message, int force) {
  MLCTL_REAL_FUNCTION(libgit2(), git_tag_create);
  return real(oid, repo, tag_name, target, tagger, message, force);
}

int git_tree_entry_bypath(git_tree_entry** out, const git_tree* root, const char* path) {
  MLCTL_REAL_FUNCTION(libgit2(), git_tree_entry_bypath);
  return real(out, root, path);
}

void git_tree_entry_free(git_tree_entry* entry) {
  MLCTL_REAL_FUNCTION(libgit2(), git_tree_entry_free);
  real(entry);
}

const git_oid* git_tree_entry_id(const git_tree_entry* entry) {
  MLCTL_REAL_FUNCTION(libgit2(), git_tree_entry_id);
  return real(entry);
}

git_object_t git_tree_entry_type(const git_tree_entry* entry) {
  MLCTL_REAL_FUNCTION(libgit2(), git_tree_entry_type);
  return real(entry);
}

void git_tree_free(git_tree* tree) {
  MLCTL_REAL_FUNCTION(libgit2(), git_tree_free);
  real(tree);
}

int git_tree_lookup(git_tree** out, git_repository* repo, const git_oid* id) {
  MLCTL_REAL_FUNCTION(libgit2(), git_tree_lookup);
  return real(out, repo, id);
}

}  // extern "C"
