"""API problems as people read them: status and detail, and each bad field by file line."""

from __future__ import annotations

import httpx

from cli.client import problem_of
from cli.errors import EXIT_API, EXIT_INVALID, ApiError
from cli.inputs import parse_csv, parse_json
from cli.problems import problem_lines

HEADER = "sku,title,description,price,currency,quantity,condition,images"
ROW = "S{n},T,D,1.00,EUR,1,good,https://e.com/a.jpg"


def test_a_problem_without_field_errors_is_status_and_detail() -> None:
    error = ApiError(404, "job nope not found")

    assert problem_lines(error) == ["error: 404 job nope not found"]
    assert error.exit_code == EXIT_API


def test_batch_field_errors_are_mapped_to_csv_lines_and_columns() -> None:
    submission = parse_csv("\n".join([HEADER, ROW.format(n=1), "", ROW.format(n=2)]), "l.csv")
    error = ApiError(
        422,
        "jobs.1.input_data.sku: …",
        [
            {"loc": "jobs.1.input_data.sku", "msg": "String should match pattern", "type": "x"},
            {"loc": "jobs.0.input_data.price.amount", "msg": "Value error, must be > 0"},
            {"loc": "jobs.0.input_data.images.1", "msg": "Value error, must be https"},
            {"loc": "jobs.1.marketplaces.0", "msg": "Input should be 'ebay'"},
        ],
    )

    assert problem_lines(error, submission) == [
        "error: 422 the API rejected 4 field(s) in l.csv:",
        "  line 4: sku: String should match pattern",
        "  line 2: price: must be > 0",
        "  line 2: images (URL 2): must be https",
        "  line 4: marketplaces.0: Input should be 'ebay'",
    ]
    assert error.exit_code == EXIT_INVALID


def test_single_job_field_errors_name_the_field_and_batch_level_ones_stay_as_is() -> None:
    one = parse_json('{"sku": "x"}', "one.json")
    many = parse_json('[{"sku": "x"}, {"sku": "y"}]', "many.json")

    single = ApiError(422, "…", [{"loc": "input_data.title", "msg": "Field required"}])
    batch = ApiError(
        422,
        "…",
        [
            {"loc": "jobs", "msg": "List should have at most 10000 items"},
            {"loc": "jobs.1.input_data", "msg": "Field required"},
        ],
    )

    assert problem_lines(single, one)[1:] == ["  title: Field required"]
    assert problem_lines(batch, many)[1:] == [
        "  jobs: List should have at most 10000 items",
        "  item 2: input_data: Field required",
    ]


def test_problem_json_and_other_error_bodies_are_read() -> None:
    problem = httpx.Response(
        409,
        json={"title": "Conflict", "status": 409, "detail": "job j is running"},
        headers={"content-type": "application/problem+json"},
    )
    proxy = httpx.Response(502, text="<html>Bad gateway</html>")

    assert str(problem_of(problem)) == "409 job j is running"
    assert problem_of(problem).errors == []
    assert str(problem_of(proxy)) == "502 <html>Bad gateway</html>"
