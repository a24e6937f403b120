"""Bad input ends with one line on standard error, a non-zero status, and no traceback."""

from __future__ import annotations

from cli_helpers import assert_one_line_error, write_csv

FAST = ("--epochs", "1", "--hidden", "4")


def test_a_missing_file(cli):
    assert_one_line_error(cli("train", "no/such.csv", "--target", "y"), "no such file: no/such.csv")


def test_a_missing_target_column_lists_the_columns(cli, people_csv):
    assert_one_line_error(
        cli("train", people_csv, "--target", "boughtt"),
        "no target column 'boughtt' (did you mean 'bought'?)", "its columns are: age, city, "
        "income, bought")


def test_a_csv_without_target_option_lists_the_columns(cli, people_csv):
    assert_one_line_error(cli("train", people_csv), "--target", "age, city, income, bought")


def test_an_empty_csv(cli, tmp_path):
    (tmp_path / "empty.csv").write_text("")
    assert_one_line_error(cli("train", "empty.csv", "--target", "y"), "empty.csv is empty")


def test_a_csv_with_only_a_header(cli, tmp_path):
    (tmp_path / "h.csv").write_text("x,y\n")
    assert_one_line_error(cli("train", "h.csv", "--target", "y"), "no data rows")


def test_a_target_with_one_class(cli, tmp_path):
    write_csv(tmp_path / "one.csv", ["x", "y"], [[1, "yes"], [2, "yes"], [3, "yes"]])
    assert_one_line_error(cli("train", "one.csv", "--target", "y"), "only one class ('yes'")


def test_text_in_a_numeric_column(cli, tmp_path):
    rows = [[i, i % 2] for i in range(10)]
    rows[6][0] = "n/k"
    rows[7][0] = "?"
    write_csv(tmp_path / "t.csv", ["x", "y"], rows)
    assert_one_line_error(cli("train", "t.csv", "--target", "y", *FAST),
                          "column 'x'", "line 8 has the text 'n/k'")


def test_a_model_file_that_is_not_a_model(cli, tmp_path):
    (tmp_path / "fake.keras").write_text("this is not a model")
    (tmp_path / "fake.h5").write_bytes(b"\x00" * 64)
    for name in ("fake.keras", "fake.h5"):
        assert_one_line_error(cli("summary", name), name, "not a model file")
    assert_one_line_error(cli("predict", "fake.keras", "wages"), "not a model file")


def test_a_missing_model_file(cli):
    assert_one_line_error(cli("evaluate", "gone.keras", "wages"), "no such model file: gone.keras")


def test_a_dataset_name_with_a_typo(cli):
    assert_one_line_error(cli("train", "wagse"), "Did you mean 'wages'?")


def test_an_unknown_activation_and_loss(cli):
    assert_one_line_error(cli("train", "wages", "--activation", "relux"), "Did you mean 'relu'")
    assert_one_line_error(cli("train", "wages", "--loss", "msee"), "Unknown loss: 'msee'")


def test_a_model_path_with_a_wrong_extension(cli):
    assert_one_line_error(cli("train", "wages", "--output", "model.pkl"), ".keras", ".h5")


def test_a_semicolon_separated_file_gets_a_hint(cli, tmp_path):
    (tmp_path / "s.csv").write_text("a;b\n1;2\n")
    assert_one_line_error(cli("train", "s.csv", "--target", "b"), "semicolons")


def test_no_subcommand_prints_help_and_fails(cli):
    run = cli()
    assert run.code == 2
    assert "train" in run.out and "demo" in run.out
