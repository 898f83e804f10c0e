"""The README's Block Kit Builder links show what the app renders today, within Slack's limits."""

from urllib.parse import unquote

from tests.fakes.slack_api import view_problems
from tests.readme_views import BUILDER, README, builder_link, current_section, pictures, readme_section


def test_the_readme_links_open_the_views_the_app_renders_today() -> None:
    shown = pictures()
    current = current_section(README.read_text(encoding="utf-8"))
    assert current is not None, "README.md lost its views section"
    assert current == readme_section(shown), "the README's views are out of date: python -m tests.readme_views --write"


def test_each_pictured_view_is_one_slack_would_accept() -> None:
    for picture in pictures():
        view = picture.view.to_dict()
        assert view_problems(view, expected_type=view["type"]) == [], picture.title
        assert builder_link(picture.view).startswith(BUILDER)
        assert len(builder_link(picture.view)) < 16_000, f"{picture.title}: too long a link for a browser"
        assert unquote(builder_link(picture.view)).startswith(BUILDER + "{")
