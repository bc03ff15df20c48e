"""The unit suite's guard: the conftest blocks the network for every test here."""

from __future__ import annotations

import os
import socket

import pytest
from pytest_socket import SocketBlockedError

# pytest-socket also warns when it blocks; the raised error is what these tests check.
pytestmark_blocked = pytest.mark.filterwarnings("ignore:A test tried to use socket")


@pytestmark_blocked
def test_opening_an_internet_socket_fails() -> None:
    with pytest.raises(SocketBlockedError):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)


@pytestmark_blocked
def test_resolving_a_host_name_fails() -> None:
    with pytest.raises(SocketBlockedError):
        socket.getaddrinfo("example.com", 443)


def test_fake_credentials_and_region_are_set() -> None:
    assert os.environ["AWS_ACCESS_KEY_ID"] == "testing"
    assert os.environ["AWS_DEFAULT_REGION"] == "us-east-1"
    assert os.environ["POWERTOOLS_TRACE_DISABLED"] == "true"
