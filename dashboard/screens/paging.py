"""Newest-first keyset paging: a stack of cursors per listing, reset when its filters change."""
import streamlit as st


class Pager:
    def __init__(self, name, signature):
        self.key = f"{name}_pager"
        state = st.session_state.setdefault(self.key, {"signature": signature, "cursors": [None]})
        if state["signature"] != signature:
            state.update(signature=signature, cursors=[None])
        self.state = state

    @property
    def signature(self):
        return self.state["signature"]

    @property
    def cursor(self):
        return self.state["cursors"][-1]

    @property
    def page(self):
        return len(self.state["cursors"])

    def controls(self, next_cursor, shown):
        cursors = self.state["cursors"]
        newer, label, older = st.columns([1, 3, 1], vertical_alignment="center")
        newer.button("← Newer", key=f"{self.key}_newer", disabled=len(cursors) == 1,
                     on_click=cursors.pop, width="stretch")
        label.caption(f"Page {self.page} · {shown} shown")
        older.button("Older →", key=f"{self.key}_older", disabled=next_cursor is None,
                     on_click=cursors.append, args=(next_cursor,), width="stretch")
