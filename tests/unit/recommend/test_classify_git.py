"""`recommend --diff`: each classification on a real git repository made by the test."""

from __future__ import annotations

from pathlib import Path

import pytest

from safeship.errors import NotFound, UsageError
from safeship.recommend import ChangeType, Recommendation, recommend_for_range
from tests.unit.recommend.git_repo import BASE_OPENAPI, BASE_PYPROJECT, GitRepo, service_repo


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return service_repo(tmp_path / "shop")


def recommend(repo: GitRepo, revision_range: str = "base..HEAD") -> Recommendation:
    return recommend_for_range(repo.root, revision_range)


def evidence(recommendation: Recommendation, change_type: ChangeType) -> list[str]:
    return [item for signal in recommendation.signals if signal.change_type is change_type
            for item in signal.evidence]


# -- db_migration ----------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "text"), [
    ("alembic/versions/2f1c_add_users.py",
     'revision = "2f1c"\ndown_revision = "1a0b"\n'),
    ("shop/migrations/0002_orders_status.py", "operations = []\n"),
    ("db/migrate/20240101000000_add_status.rb", "class AddStatus; end\n"),
    ("db/sql/V2__add_index.sql", "CREATE INDEX orders_status ON orders(status);\n"),
    ("db/sql/V2_1__fix.sql", "ALTER TABLE orders ADD note text;\n"),
    ("schema/000042_add_note.up.sql", "ALTER TABLE orders ADD note text;\n"),
    ("sql/20240101_add_note.sql",
     "-- +goose Up\nALTER TABLE orders ADD note text;\n-- +goose Down\n"
     "ALTER TABLE orders DROP note;\n"),
    ("sql/add_note.sql", "-- migrate:up\nALTER TABLE orders ADD note text;\n-- migrate:down\n"),
    ("store/versions/4d2e_note.py", 'revision = "4d2e"\ndown_revision = None\n'),
])
def test_migrations_mean_db_migration(repo: GitRepo, path: str, text: str) -> None:
    repo.write(path, text).commit("Add a migration")
    recommendation = recommend(repo)
    assert recommendation.change_type is ChangeType.DB_MIGRATION
    assert recommendation.strategy == "Blue/green (with dual-write)"
    assert recommendation.why == "Rollback requires schema revert"
    assert evidence(recommendation, ChangeType.DB_MIGRATION) == [path]


@pytest.mark.parametrize(("path", "text"), [
    ("queries/report.sql", "SELECT count(*) FROM orders; -- update nightly\n"),
    ("src/shop/versions/compat.py", "SUPPORTED = ['v1']\n"),
    ("shop/migrations/README.md", "How we migrate\n"),
])
def test_lookalikes_are_not_migrations(repo: GitRepo, path: str, text: str) -> None:
    repo.write(path, text).commit("Not a migration")
    assert ChangeType.DB_MIGRATION not in recommend(repo).change_types


def test_a_renamed_or_deleted_migration_counts(repo: GitRepo) -> None:
    repo.write("migrations/0001_init.sql", "CREATE TABLE t (id int);\n").commit("m1")
    repo.git("tag", "m1")
    repo.move("migrations/0001_init.sql", "migrations/0001_initial.sql").commit("rename")
    assert recommend(repo, "m1..HEAD").change_type is ChangeType.DB_MIGRATION
    repo.git("tag", "m2")
    repo.delete("migrations/0001_initial.sql").commit("drop")
    assert recommend(repo, "m2..HEAD").change_type is ChangeType.DB_MIGRATION


# -- dependency ------------------------------------------------------------------------------

@pytest.mark.parametrize("path", [
    "requirements.txt", "requirements-dev.txt", "requirements/prod.txt", "poetry.lock",
    "uv.lock", "Pipfile.lock", "package-lock.json", "yarn.lock", "go.sum", "Cargo.lock",
    "ui/pnpm-lock.yaml",
])
def test_lock_and_requirements_files_mean_dependency(repo: GitRepo, path: str) -> None:
    repo.write(path, "something pinned==1.0\n").commit("Bump pins")
    recommendation = recommend(repo)
    assert recommendation.change_type is ChangeType.DEPENDENCY
    assert recommendation.strategy == "Canary (10% → 50% → 100%)"
    assert recommendation.guidance.canary_steps == (10, 50, 100)
    assert evidence(recommendation, ChangeType.DEPENDENCY) == [path]


def test_changed_dependency_declarations_in_pyproject(repo: GitRepo) -> None:
    repo.write("pyproject.toml", BASE_PYPROJECT.replace("httpx>=0.27", "httpx>=0.28"))
    repo.commit("Require a newer httpx")
    recommendation = recommend(repo)
    assert recommendation.change_type is ChangeType.DEPENDENCY
    assert evidence(recommendation, ChangeType.DEPENDENCY) == [
        "pyproject.toml (project.dependencies)"]


def test_changed_dependency_declarations_in_package_json(repo: GitRepo) -> None:
    repo.write("package.json", '{"name": "ui", "version": "3.1.0", '
                               '"dependencies": {"react": "^18.3.0"}}\n').commit("react")
    assert evidence(recommend(repo), ChangeType.DEPENDENCY) == ["package.json (dependencies)"]


def test_other_pyproject_edits_are_not_dependency_changes(repo: GitRepo) -> None:
    repo.write("pyproject.toml", BASE_PYPROJECT.replace("A shop", "The shop")).commit("Words")
    assert recommend(repo).change_types == ()


# -- config ----------------------------------------------------------------------------------

def test_only_config_files_mean_config(repo: GitRepo) -> None:
    repo.write("config/app.yaml", "log_level: debug\n")
    repo.write("deploy/.env.production", "FEATURE_X=1\n")
    repo.write(".pipeline/gates.yaml", "version: 2\nstages: []\n")
    repo.write("settings/limits.toml", "rate = 10\n")
    repo.commit("Tune config")
    recommendation = recommend(repo)
    assert recommendation.change_type is ChangeType.CONFIG
    assert recommendation.strategy == "Feature flags + canary"
    assert recommendation.why == "Easy toggle, low risk"
    assert sorted(evidence(recommendation, ChangeType.CONFIG)) == [
        ".pipeline/gates.yaml", "config/app.yaml", "deploy/.env.production",
        "settings/limits.toml"]


def test_config_with_code_is_not_config_only(repo: GitRepo) -> None:
    repo.write("config/app.yaml", "log_level: debug\n")
    repo.write("src/shop/orders.py", "def orders() -> list[str]:\n    return ['a']\n")
    repo.commit("Code and config")
    recommendation = recommend(repo)
    assert recommendation.change_type is None
    assert recommendation.strategy == "Canary"


def test_yaml_outside_config_dirs_is_not_config(repo: GitRepo) -> None:
    repo.write("docs/mkdocs.yml", "site_name: shop\n").commit("Docs")
    assert recommend(repo).change_type is None


# -- new_endpoint ----------------------------------------------------------------------------

def test_a_new_path_in_the_openapi_spec_means_new_endpoint(repo: GitRepo) -> None:
    repo.write("api/openapi.yaml", BASE_OPENAPI + "  /refunds:\n    post:\n"
               "      responses: {\"201\": {description: created}}\n")
    repo.write("src/shop/refunds.py", "def refund() -> None:\n    pass\n")
    repo.commit("Refunds")
    recommendation = recommend(repo)
    assert recommendation.change_type is ChangeType.NEW_ENDPOINT
    assert recommendation.strategy == "Feature flag (off) → canary → on"
    assert recommendation.why == "Safe to test in prod"
    assert evidence(recommendation, ChangeType.NEW_ENDPOINT) == ["api/openapi.yaml: /refunds"]


def test_a_new_method_on_an_existing_path_is_a_new_endpoint(repo: GitRepo) -> None:
    repo.write("api/openapi.yaml", BASE_OPENAPI + "    post:\n"
               "      responses: {\"201\": {description: created}}\n").commit("POST orders")
    assert evidence(recommend(repo), ChangeType.NEW_ENDPOINT) == [
        "api/openapi.yaml: POST /orders"]


def test_a_new_json_spec_file_counts_every_path(repo: GitRepo) -> None:
    repo.write("admin/swagger.json", '{"swagger": "2.0", "paths": {"/admin": {"get": {}}}}')
    repo.commit("Admin API")
    assert evidence(recommend(repo), ChangeType.NEW_ENDPOINT) == ["admin/swagger.json: /admin"]


def test_spec_edits_without_new_endpoints_do_not_count(repo: GitRepo) -> None:
    repo.write("api/openapi.yaml", BASE_OPENAPI.replace("description: ok", "description: fine"))
    repo.commit("Wording")
    assert ChangeType.NEW_ENDPOINT not in recommend(repo).change_types


# -- major_version ---------------------------------------------------------------------------

def test_a_major_bump_in_pyproject_means_major_version(repo: GitRepo) -> None:
    repo.write("pyproject.toml", BASE_PYPROJECT.replace('"1.4.2"', '"2.0.0"')).commit("v2")
    recommendation = recommend(repo)
    assert recommendation.change_type is ChangeType.MAJOR_VERSION
    assert recommendation.strategy == "Blue/green (with extended verification)"
    assert recommendation.why == "Isolate blast radius"
    assert evidence(recommendation, ChangeType.MAJOR_VERSION) == [
        "pyproject.toml: 1.4.2 → 2.0.0"]


def test_a_major_bump_of_dunder_version_and_package_json(repo: GitRepo) -> None:
    repo.write("src/shop/__init__.py", '"""Shop."""\n__version__ = "2.0.0"\n')
    repo.write("package.json", '{"name": "ui", "version": "4.0.0", '
                               '"dependencies": {"react": "^18.2.0"}}\n')
    repo.commit("Majors")
    assert sorted(evidence(recommend(repo), ChangeType.MAJOR_VERSION)) == [
        "package.json: 3.1.0 → 4.0.0", "src/shop/__init__.py: 1.4.2 → 2.0.0"]


def test_a_minor_bump_is_not_a_major_version(repo: GitRepo) -> None:
    repo.write("pyproject.toml", BASE_PYPROJECT.replace('"1.4.2"', '"1.5.0"')).commit("1.5")
    assert recommend(repo).change_types == ()


# -- security_patch --------------------------------------------------------------------------

@pytest.mark.parametrize("message", [
    "Fix CVE-2024-12345 in the order parser",
    "Harden input handling\n\nSecurity: reject oversized headers.",
    "Patch GHSA-jfh8-c2jp-5v3q",
])
def test_security_hints_in_commit_messages_mean_security_patch(repo: GitRepo,
                                                               message: str) -> None:
    repo.write("src/shop/orders.py", "def orders() -> list[str]:\n    return ['x']\n")
    sha = repo.commit(message)
    recommendation = recommend(repo)
    assert recommendation.change_type is ChangeType.SECURITY_PATCH
    assert recommendation.strategy == "Rolling (fast)"
    assert recommendation.why == "Urgent, but still gradual"
    [hint] = evidence(recommendation, ChangeType.SECURITY_PATCH)
    assert hint.startswith(sha[:10])


# -- several at once ---------------------------------------------------------------------------

def test_the_most_cautious_type_wins_and_every_signal_is_listed(repo: GitRepo) -> None:
    repo.write("poetry.lock", "[[package]]\nname = 'urllib3'\nversion = '2.2.2'\n")
    repo.commit("Bump urllib3 for CVE-2024-37891")
    repo.write("migrations/0003_audit.sql", "CREATE TABLE audit (id int);\n")
    repo.write("pyproject.toml", BASE_PYPROJECT.replace('"1.4.2"', '"2.0.0"'))
    repo.commit("Audit table")
    recommendation = recommend(repo)
    assert recommendation.change_type is ChangeType.DB_MIGRATION
    assert recommendation.change_types == (ChangeType.DB_MIGRATION, ChangeType.MAJOR_VERSION,
                                           ChangeType.DEPENDENCY, ChangeType.SECURITY_PATCH)
    assert evidence(recommendation, ChangeType.DB_MIGRATION) == ["migrations/0003_audit.sql"]
    assert evidence(recommendation, ChangeType.DEPENDENCY) == ["poetry.lock"]
    notes = " ".join(recommendation.notes)
    assert "most cautious" in notes
    assert "security fix" in notes
    assert "dual-write" in notes


def test_paths_with_spaces_and_unicode_arrive_intact(repo: GitRepo) -> None:
    repo.write("migrations/0004 größe.sql", "ALTER TABLE t ADD x int;\n").commit("Umlaut")
    assert evidence(recommend(repo), ChangeType.DB_MIGRATION) == ["migrations/0004 größe.sql"]


# -- ranges and errors -----------------------------------------------------------------------

def test_an_empty_range_is_unclassified_and_says_so(repo: GitRepo) -> None:
    recommendation = recommend(repo, "HEAD..HEAD")
    assert recommendation.change_type is None
    assert recommendation.diff is not None
    assert recommendation.diff.files_changed == 0
    assert "do not differ" in " ".join(recommendation.notes)


def test_base_dot_dot_means_up_to_head(repo: GitRepo) -> None:
    repo.write("go.sum", "x\n").commit("deps")
    assert recommend(repo, "base..").change_type is ChangeType.DEPENDENCY
    assert recommend(repo, "HEAD~1..HEAD").change_type is ChangeType.DEPENDENCY


@pytest.mark.parametrize("bad", ["base", "base...HEAD", "..HEAD", "--output=x..HEAD",
                                 "base..-p", "base..HEAD extra"])
def test_malformed_ranges_are_usage_errors(repo: GitRepo, bad: str) -> None:
    with pytest.raises(UsageError):
        recommend(repo, bad)


def test_an_unknown_revision_is_not_found(repo: GitRepo) -> None:
    with pytest.raises(NotFound, match="no-such-branch"):
        recommend(repo, "no-such-branch..HEAD")


def test_a_directory_outside_git_is_a_usage_error(tmp_path: Path, repo: GitRepo) -> None:
    elsewhere = tmp_path / "plain"
    elsewhere.mkdir()
    with pytest.raises(UsageError, match="not inside a git work tree"):
        recommend_for_range(elsewhere, "base..HEAD")
