"""Reading listings files: JSON in its four shapes, CSV rows, and clear errors for bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.errors import InputFileError
from cli.inputs import parse_csv, parse_json, read_submission
from tests.factories import listing_body, start_job_body

HEADER = "sku,title,description,price,currency,quantity,condition,images"


def test_a_single_listing_object_becomes_one_start_job_body() -> None:
    listing = listing_body()

    submission = parse_json(json.dumps(listing), "one.json")

    assert submission.jobs == [{"input_data": listing}]
    assert not submission.as_batch


def test_a_start_job_body_is_sent_as_written() -> None:
    body = start_job_body(marketplaces=["etsy"])

    submission = parse_json(json.dumps(body), "job.json")

    assert submission.jobs == [body]
    assert not submission.as_batch


def test_a_list_of_listings_is_a_batch_with_item_numbers() -> None:
    listings = [listing_body(), start_job_body()]

    submission = parse_json(json.dumps(listings), "many.json")

    assert submission.as_batch
    assert submission.jobs == [{"input_data": listings[0]}, listings[1]]
    assert submission.origins == ["item 1", "item 2"]


def test_a_batch_body_stays_a_batch_even_with_one_job() -> None:
    submission = parse_json(json.dumps({"jobs": [start_job_body()]}), "batch.json")

    assert submission.as_batch
    assert submission.origins == ["jobs[0]"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"sku": ', "not valid JSON (line 1"),
        ("[]", "the list is empty"),
        ('{"jobs": []}', '"jobs" must be a non-empty list'),
        ("[1]", "item 1 is not a JSON object"),
    ],
)
def test_bad_json_files_are_reported_by_name(text: str, message: str) -> None:
    with pytest.raises(InputFileError, match=r"^bad\.json: ") as caught:
        parse_json(text, "bad.json")

    assert message in caught.value.message


def test_csv_rows_become_listings_with_price_images_and_optional_columns() -> None:
    text = (
        "SKU,Title,Description,Price,Currency,Quantity,Condition,Images,Brand,Size\n"
        'ABC1,Jacket,"Levi\'s, size M",45.00,eur,2,Like new,'
        "https://e.com/a.jpg|https://e.com/b.jpg  https://e.com/c.jpg,Levi's,\n"
    )

    submission = parse_csv(text, "l.csv")

    assert submission.jobs == [
        {
            "input_data": {
                "sku": "ABC1",
                "title": "Jacket",
                "description": "Levi's, size M",
                "price": {"amount": "45.00", "currency": "EUR"},
                "quantity": 2,
                "condition": "like_new",
                "images": ["https://e.com/a.jpg", "https://e.com/b.jpg", "https://e.com/c.jpg"],
                "brand": "Levi's",
            }
        }
    ]
    assert submission.origins == ["line 2"]
    assert not submission.as_batch


def test_csv_line_numbers_count_blank_lines_and_multi_line_cells() -> None:
    row = "S{n},T,D,1.00,EUR,1,good,https://e.com/a.jpg"
    two_lines = 'S2,T,"two\nlines",1.00,EUR,1,good,https://e.com/a.jpg'
    text = "\n".join([HEADER, row.format(n=1), "", two_lines, row.format(n=3)])

    submission = parse_csv(text + "\n", "l.csv")

    assert [job["input_data"]["sku"] for job in submission.jobs] == ["S1", "S2", "S3"]
    assert submission.origins == ["line 2", "line 4", "line 6"]
    assert submission.as_batch


def test_csv_values_the_api_rejects_are_passed_on_for_it_to_name() -> None:
    text = f"{HEADER}\nbad sku!,,D,-3,EUR,many,good,http://e.com/a.jpg\n"

    listing = parse_csv(text, "l.csv").jobs[0]["input_data"]

    assert listing["sku"] == "bad sku!"
    assert listing["title"] == ""
    assert listing["quantity"] == "many"
    assert listing["price"] == {"amount": "-3", "currency": "EUR"}


def test_csv_accepts_price_amount_and_semicolons() -> None:
    text = HEADER.replace("price", "price_amount").replace(",", ";")
    text += "\nS1;T;D;9.99;EUR;1;new;https://e.com/a.jpg\n"

    listing = parse_csv(text, "l.csv").jobs[0]["input_data"]

    assert listing["price"] == {"amount": "9.99", "currency": "EUR"}


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("sku,title,description,price,quantity,condition,images", "missing column(s): currency"),
        ("sku,title,description,currency,quantity,condition,images", "missing column(s): price"),
        (HEADER + ",colour", "unknown column(s): colour"),
        (HEADER + ",price_amount", "one of the columns price and price_amount"),
        (HEADER + ",SKU", "repeated column(s): sku"),
    ],
)
def test_bad_csv_headers_name_the_column(header: str, message: str) -> None:
    text = header + "\nS1,T,D,1.00,EUR,1,good,https://e.com/a.jpg\n"

    with pytest.raises(InputFileError) as caught:
        parse_csv(text, "l.csv")

    assert caught.value.message.startswith("l.csv: ")
    assert message in caught.value.message


def test_csv_rows_longer_than_the_header_and_header_only_files_are_errors() -> None:
    with pytest.raises(InputFileError, match="line 2 has 9 cells, the header 8"):
        parse_csv(f"{HEADER}\nS1,T,D,1.00,EUR,1,good,https://e.com/a.jpg,extra\n", "l.csv")
    with pytest.raises(InputFileError, match="no listings"):
        parse_csv(HEADER + "\n", "l.csv")


def test_files_are_read_by_extension_or_sniffed(tmp_path: Path) -> None:
    listing = listing_body()
    (tmp_path / "a.txt").write_text(json.dumps([listing, listing]))
    (tmp_path / "b.csv").write_text(f"{HEADER}\nS1,T,D,1.00,EUR,1,good,https://e.com/a.jpg\n")

    assert read_submission(str(tmp_path / "a.txt")).as_batch
    assert read_submission(str(tmp_path / "b.csv")).jobs[0]["input_data"]["sku"] == "S1"
    with pytest.raises(InputFileError, match="cannot read"):
        read_submission(str(tmp_path / "missing.csv"))
