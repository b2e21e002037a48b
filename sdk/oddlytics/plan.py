"""Batch sizes at the head of the queue after the worker refused a batch as a whole (413) or failed it too often.

The refused batch goes again as two halves, each half split again if refused, until the event at fault
stands alone; the events after it return to full batches. Only the sender changes the head, so a list
of sizes is enough to remember where each half ends.
"""


class SplitPlan:
    def __init__(self):
        self._sizes = []

    @property
    def active(self):
        return bool(self._sizes)

    def next_size(self, full):
        return self._sizes[0] if self._sizes else full

    def settled(self, count):
        """`count` events at the head left the queue (stored, dropped or moved to the back)."""
        while count and self._sizes:
            taken = min(count, self._sizes[0])
            self._sizes[0] -= taken
            count -= taken
            if not self._sizes[0]:
                self._sizes.pop(0)

    def split(self, count):
        """The batch of the `count` events at the head goes again as two halves (count >= 2)."""
        self.settled(count)
        first = (count + 1) // 2
        self._sizes[:0] = [first, count - first]

    def sizes(self):
        return list(self._sizes)
