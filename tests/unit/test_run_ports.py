"""scripts/run.py's dashboard port: 8501 or the next free one when it is taken; a port asked for must be free."""
import socket

import pytest

from scripts.devserver import ServerError, free_port, port_in_use
from scripts.run import dashboard_port


@pytest.fixture
def taken_port():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def test_a_taken_default_port_moves_to_the_next_free_one_and_says_so(taken_port, capsys):
    port = dashboard_port(None, default=taken_port)
    assert taken_port < port < taken_port + 20
    assert not port_in_use(port)
    assert capsys.readouterr().out == f"Port {taken_port} is in use: the dashboard takes {port}.\n"


def test_a_free_default_port_is_taken_silently(capsys):
    port = free_port()
    assert dashboard_port(None, default=port) == port
    assert capsys.readouterr().out == ""


def test_a_taken_port_that_was_asked_for_is_an_error_naming_the_setting(taken_port):
    with pytest.raises(ServerError, match=f"dashboard port {taken_port} is in use; pick another with DASHBOARD_PORT="):
        dashboard_port(taken_port)
