"""Process groups on MPI: ``init_process_group``, ranks, sizes, ``new_group`` (``torch.distributed``'s names).

Rank and world size come from the MPI launcher (``mpiexec -n K python script.py``). A default
group spans ``MPI.COMM_WORLD``; ``new_group(ranks)`` makes a sub-communicator. Source and
destination ranks given to collectives are global ranks, as in PyTorch.

``init_process_group`` also installs an exception hook: an uncaught exception on one rank
prints its traceback (prefixed with the rank) and calls ``MPI_Abort``, so the whole job ends
within seconds instead of the other ranks waiting forever in their next collective.
"""

from __future__ import annotations

import enum
import sys
import traceback
import warnings
from typing import Any

from . import _mpi

BACKENDS = ("mpi",)


class ReduceOp(enum.Enum):
    """Reduction operators of the collectives (``torch.distributed.ReduceOp``)."""

    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7

    def __repr__(self) -> str:
        return f"<ReduceOp.{self.name}: {self.value}>"


class ProcessGroup:
    """A set of ranks sharing one MPI communicator; ``rank()``/``size()`` are within the group."""

    def __init__(self, comm: Any, ranks: list[int]) -> None:
        self.comm = comm
        self.ranks = list(ranks)

    def rank(self) -> int:
        return self.comm.Get_rank()

    def size(self) -> int:
        return self.comm.Get_size()

    def group_rank(self, global_rank: int, what: str) -> int:
        """The rank inside this group of a global rank (``src``/``dst`` arguments)."""
        try:
            return self.ranks.index(int(global_rank))
        except ValueError:
            raise ValueError(f"{what} rank {global_rank} is not part of the process group (ranks {self.ranks})") from None

    def name(self) -> str:
        return "mpi"

    def __repr__(self) -> str:
        return f"ProcessGroup(backend='mpi', ranks={self.ranks})"


class _NonGroupMember:
    """Returned by ``new_group`` on ranks outside the new group; collectives on it do nothing."""

    def __repr__(self) -> str:
        return "GroupMember.NON_GROUP_MEMBER"


class GroupMember:
    """``GroupMember.WORLD`` is the default group once initialised; ``NON_GROUP_MEMBER`` as in PyTorch."""

    WORLD: ProcessGroup | None = None
    NON_GROUP_MEMBER = _NonGroupMember()


group = GroupMember  # ``dist.group.WORLD`` as in PyTorch

_state: dict[str, Any] = {"default": None, "groups": [], "hook": None}

_NOT_INIT = ("Default process group has not been initialized, please make sure to call "
             "init_process_group.")


def is_available() -> bool:
    """True when the MPI backend can be used (mpi4py is installed); MPI is not initialised by this."""
    return _mpi.available()


def is_mpi_available() -> bool:
    return _mpi.available()


def is_initialized() -> bool:
    return _state["default"] is not None


def _default() -> ProcessGroup:
    pg = _state["default"]
    if pg is None:
        raise ValueError(_NOT_INIT)
    return pg


def resolve(group: Any, op_name: str) -> ProcessGroup | None:
    """The group a collective runs on: the default for None; None (with a warning) on a non-member."""
    if group is None:
        return _default()
    if isinstance(group, _NonGroupMember):
        warnings.warn(f"Running {op_name} on a rank which does not belong to the given group.", stacklevel=3)
        return None
    if not isinstance(group, ProcessGroup):
        raise TypeError(f"{op_name}: group must be a ProcessGroup made by new_group, got {type(group).__name__}")
    return group


def init_process_group(backend: str | None = None, init_method: str | None = None, timeout: Any = None,
                       world_size: int = -1, rank: int = -1, store: Any = None, group_name: str = "",
                       pg_options: Any = None, device_id: Any = None) -> None:
    """Join the job started by the MPI launcher; rank and size come from MPI.

    ``world_size``/``rank``, when given, must agree with the launcher's. ``init_method``,
    ``store`` and ``timeout`` have no meaning for MPI (the launcher does the rendezvous).
    """
    name = "mpi" if backend is None else str(backend).lower()
    if name not in BACKENDS:
        raise ValueError(
            f"Invalid backend: '{backend}'. chainrule.distributed has the backends {list(BACKENDS)} "
            "('nccl', 'gloo' and 'ucc' are PyTorch's and do not exist here)")
    if _state["default"] is not None:
        raise ValueError("trying to initialize the default process group twice!")
    MPI = _mpi.mpi()
    world = MPI.COMM_WORLD
    size, me = world.Get_size(), world.Get_rank()
    if world_size not in (-1, None) and int(world_size) != size:
        raise ValueError(f"init_process_group: world_size={world_size} but the MPI launcher started {size} processes")
    if rank not in (-1, None) and int(rank) != me:
        raise ValueError(f"init_process_group: rank={rank} but MPI says this process is rank {me}")
    pg = ProcessGroup(world.Dup(), list(range(size)))
    _state["default"] = pg
    GroupMember.WORLD = pg
    _install_abort_hook(me, size)


def _install_abort_hook(me: int, size: int) -> None:
    previous = sys.excepthook

    def abort_on_uncaught(exc_type, exc, tb) -> None:
        try:
            sys.stdout.flush()
            lines = "".join(traceback.format_exception(exc_type, exc, tb))
            sys.stderr.write("".join(f"[rank {me}] {line}\n" for line in lines.rstrip("\n").split("\n")))
            sys.stderr.write(f"[rank {me}] chainrule.distributed: uncaught exception on rank {me}; "
                             f"aborting all {size} ranks (MPI_Abort)\n")
            sys.stderr.flush()
        finally:
            if size > 1:
                _mpi.mpi().COMM_WORLD.Abort(1)
            else:
                previous(exc_type, exc, tb)

    _state["hook"] = (previous, abort_on_uncaught)
    sys.excepthook = abort_on_uncaught


def destroy_process_group(group: ProcessGroup | None = None) -> None:
    """Free a group's communicator; without ``group`` all groups and the default one (MPI stays up)."""
    if group is not None and group is not _state["default"]:
        if isinstance(group, ProcessGroup) and group in _state["groups"]:
            _state["groups"].remove(group)
            group.comm.Free()
        return
    _default()
    for pg in _state["groups"]:
        pg.comm.Free()
    _state["groups"].clear()
    _state["default"].comm.Free()
    _state["default"] = None
    GroupMember.WORLD = None
    hook = _state["hook"]
    if hook is not None and sys.excepthook is hook[1]:
        sys.excepthook = hook[0]
    _state["hook"] = None


def get_rank(group: ProcessGroup | None = None) -> int:
    """This process's rank in ``group`` (the default group when None); -1 outside the group."""
    if isinstance(group, _NonGroupMember):
        return -1
    return (group or _default()).rank()


def get_world_size(group: ProcessGroup | None = None) -> int:
    """The number of ranks in ``group`` (the default group when None); -1 outside the group."""
    if isinstance(group, _NonGroupMember):
        return -1
    return (group or _default()).size()


def get_backend(group: ProcessGroup | None = None) -> str:
    (group or _default())
    return "mpi"


def get_process_group_ranks(group: ProcessGroup) -> list[int]:
    """The global ranks of ``group``, in group-rank order."""
    return list((group or _default()).ranks)


def new_group(ranks: list[int] | None = None, timeout: Any = None, backend: str | None = None,
              pg_options: Any = None, use_local_synchronization: bool = False, group_desc: str | None = None,
              device_id: Any = None):
    """A group of the given global ranks (all ranks when None); every rank of the job must call it.

    Ranks outside the group get ``GroupMember.NON_GROUP_MEMBER``.
    """
    if backend is not None and str(backend).lower() not in BACKENDS:
        raise ValueError(f"Invalid backend: '{backend}'. chainrule.distributed has the backends {list(BACKENDS)}")
    world = _default()
    size = world.size()
    members = list(range(size)) if ranks is None else sorted(int(r) for r in ranks)
    for r in members:
        if not 0 <= r < size:
            raise ValueError(f"new_group: rank {r} is out of range for a world of size {size} (0..{size - 1})")
    if len(set(members)) != len(members):
        raise ValueError(f"new_group: ranks must be distinct, got {list(ranks or [])}")
    comm = world.comm.Create_group(world.comm.Get_group().Incl(members))
    if comm == _mpi.mpi().COMM_NULL:
        return GroupMember.NON_GROUP_MEMBER
    pg = ProcessGroup(comm, members)
    _state["groups"].append(pg)
    return pg
