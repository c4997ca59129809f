"""The data's points on the page: every 2-D set's thumbnail shows its points, and the
output plane shows the chosen set's train and test points (test ones can be hidden)."""

from __future__ import annotations

from playwright.sync_api import expect


def test_points_on_the_plane_and_the_thumbnails(app) -> None:  # type: ignore[no-untyped-def]
    page = app.open()
    page.get_by_role("radio", name="xor").click()
    n_points = page.locator('.data-panel .field[data-key="n_points"] input')
    n_points.fill("300")
    n_points.press("Enter")
    boundary = page.get_by_test_id("boundary")
    expect(boundary).to_have_attribute("data-points", "300")  # train 150 + test 150
    page.get_by_label("show test points").uncheck()
    expect(boundary).to_have_attribute("data-points", "150")
    page.get_by_label("show test points").check()
    expect(boundary).to_have_attribute("data-points", "300")
    # thumbnails: 200 points for each set in the plane; none for digits (no plane)
    expect(page.locator('.thumb[data-name="spiral"] img')).to_have_attribute(
        "data-points", "200")
    expect(page.locator('.thumb[data-name="xor"] img')).to_have_attribute(
        "data-points", "200")
    expect(page.locator('.thumb[data-name="digits"] img')).not_to_have_attribute(
        "data-points", "200")
    app.shot("6-points")
