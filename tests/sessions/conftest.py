"""Every route test here runs on each database layout."""

import pytest

from tests.conftest import LAYOUT_SCHEMAS


@pytest.fixture(params=list(LAYOUT_SCHEMAS))
def layout(request):
    return request.param
