"""Scan a SavedModel's graphs for ops that reach the host before anything loads or runs it.

A SavedModel is code: a graph may read or write files, open sockets or call back into Python,
and `tf.saved_model.load` already runs its initialisers. So the registry parses
`saved_model.pb` itself (never loading it) and looks at every node of every meta graph and every
function in the library (signatures, their callees, gradients, unreferenced ones too).

The denylist starts from `saved_model_cli scan`'s (ReadFile, WriteFile, PrintV2) and adds every op
that touches the file system, the network, another process or the Python interpreter.

Checkpoint ops (SaveV2, RestoreV2, ...) are in every SavedModel: the saver reads and writes the
variables. They are allowed only where the saver alone reaches them; a signature, a restored
function or any other entry point that can reach one is refused like a WriteFile.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from core.models import AuditEntry

# Ops that reach the host, whoever calls them.
HOST_OPS: frozenset[str] = frozenset(
    {
        # saved_model_cli's own denylist (the floor)
        "ReadFile",
        "WriteFile",
        "PrintV2",
        # files: tf.io / tf.io.gfile, printing, memory-mapped constants, vocab and checkpoint files
        "Print",
        "MatchingFiles",
        "FileSystemSetConfiguration",
        "ImmutableConst",
        "InitializeTableFromTextFile",
        "InitializeTableFromTextFileV2",
        "GenerateVocabRemapping",
        "LoadAndRemapMatrix",
        "FixedUnigramCandidateSampler",
        "DecodeProtoV2",
        "EncodeProto",
        "DumpTensor",
        "CalibrationStatisticsSaver",
        # debugger ops write tensors to file:// or grpc:// URLs
        "DebugIdentity",
        "DebugIdentityV2",
        "DebugIdentityV3",
        "DebugNanCount",
        "DebugNumericSummary",
        "DebugNumericSummaryV2",
        # summaries write event files
        "CreateSummaryFileWriter",
        "CreateSummaryDbWriter",
        "SummaryWriter",
        "FlushSummaryWriter",
        "CloseSummaryWriter",
        "WriteSummary",
        "WriteRawProtoSummary",
        "WriteScalarSummary",
        "WriteHistogramSummary",
        "WriteImageSummary",
        "WriteAudioSummary",
        "WriteGraphSummary",
        "ImportEvent",
        "StatsAggregatorSetSummaryWriter",
        # readers (tf.compat.v1) read arbitrary files
        "WholeFileReader",
        "WholeFileReaderV2",
        "TextLineReader",
        "TextLineReaderV2",
        "TFRecordReader",
        "TFRecordReaderV2",
        "FixedLengthRecordReader",
        "FixedLengthRecordReaderV2",
        "LMDBReader",
        "IdentityReader",
        "IdentityReaderV2",
        "RecordInput",
        # datasets that read or write files, databases or remote services
        "TFRecordDataset",
        "TFRecordDatasetV2",
        "TextLineDataset",
        "FixedLengthRecordDataset",
        "FixedLengthRecordDatasetV2",
        "CSVDataset",
        "CSVDatasetV2",
        "ExperimentalCSVDataset",
        "SqlDataset",
        "ExperimentalSqlDataset",
        "LMDBDataset",
        "ExperimentalLMDBDataset",
        "MatchingFilesDataset",
        "ExperimentalMatchingFilesDataset",
        "CacheDataset",
        "CacheDatasetV2",
        "SaveDataset",
        "SaveDatasetV2",
        "LoadDataset",
        "DistributedSave",
        "SnapshotDataset",
        "SnapshotDatasetV2",
        "SnapshotDatasetReader",
        "SnapshotNestedDatasetReader",
        "SnapshotChunkDataset",
        "ListSnapshotChunksDataset",
        "DatasetToTFRecord",
        "ExperimentalDatasetToTFRecord",
        "DataServiceDataset",
        "DataServiceDatasetV2",
        "DataServiceDatasetV3",
        "DataServiceDatasetV4",
        "RegisterDataset",
        "RegisterDatasetV2",
        # Python callbacks: arbitrary code in the serving process
        "PyFunc",
        "PyFuncStateless",
        "EagerPyFunc",
        # network: RPC, remote execution, collectives to other tasks
        "RpcServer",
        "RpcServerStart",
        "RpcServerRegister",
        "RpcClient",
        "RpcCall",
        "RpcCheckStatus",
        "RpcGetValue",
        "RemoteCall",
        "CollectiveInitializeCommunicator",
        "CollectiveBcastSend",
        "CollectiveBcastSendV2",
        "CollectiveBcastRecv",
        "CollectiveBcastRecvV2",
    }
)

# Ops the saver needs; anywhere else they read or write arbitrary checkpoint paths.
CHECKPOINT_OPS: frozenset[str] = frozenset(
    {
        "SaveV2",
        "Save",
        "SaveSlices",
        "RestoreV2",
        "Restore",
        "RestoreSlice",
        "MergeV2Checkpoints",
    }
)


# The audit action of an admin's approval; it names the approved bytes (artifact_sha256).
HOST_OPS_APPROVED = "model_version.host_ops_approved"


def host_ops_approved(sha256: str) -> bool:
    """Whether an admin approved the host ops of the artifact with these bytes."""
    return AuditEntry.objects.filter(
        action=HOST_OPS_APPROVED, after__artifact_sha256=sha256
    ).exists()


@dataclass(frozen=True)
class Finding:
    """A denied op and where it sits (the main graph or a named library function)."""

    op: str
    where: str

    def __str__(self) -> str:
        return f"{self.op} (in {self.where})"


class ScanError(Exception):
    """saved_model.pb could not be parsed."""


def _node_name(tensor: str) -> str:
    return tensor.lstrip("^").split(":", 1)[0]


def _function_refs(node, library: set[str]) -> Iterator[str]:
    """Functions a node calls: by op name, or through any func / list(func) attribute."""
    if node.op in library:
        yield node.op
    for value in node.attr.values():
        kind = value.WhichOneof("value")
        if kind == "func":
            yield value.func.name
        elif kind == "list":
            for func in value.list.func:
                yield func.name


def _reachable(start: Iterable[str], edges: Callable[[str], Iterable[str]]) -> set[str]:
    """Every name reachable from `start` (included) along `edges`."""
    seen: set[str] = set()
    todo = list(start)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(n for n in edges(name) if n not in seen)
    return seen


def _closure(start: Iterable[str], calls: dict[str, set[str]]) -> set[str]:
    """`start` and the functions it calls, directly or not."""
    return _reachable((name for name in start if name in calls), calls.__getitem__)


def _ancestors(roots: Iterable[str], nodes: dict) -> set[str]:
    """`roots` and the nodes whose outputs reach them."""
    return _reachable(
        (r for r in roots if r in nodes),
        lambda name: (_node_name(i) for i in nodes[name].input if _node_name(i) in nodes),
    )


def scan_meta_graph(meta_graph) -> list[Finding]:
    """Every denied op in one MetaGraphDef, in a stable order."""
    graph = meta_graph.graph_def
    functions = {f.signature.name: f for f in graph.library.function}
    library = set(functions)
    calls = {
        name: {ref for node in f.node_def for ref in _function_refs(node, library)}
        for name, f in functions.items()
    }
    for grad in graph.library.gradient:  # a gradient runs when its function is differentiated
        calls.setdefault(grad.function_name, set()).add(grad.gradient_func)

    nodes = {node.name: node for node in graph.node}
    saver = meta_graph.saver_def
    saver_roots = [_node_name(n) for n in (saver.save_tensor_name, saver.restore_op_name) if n]
    saver_nodes = _ancestors(saver_roots, nodes)
    # A node that also feeds a signature is an entry point, whatever the saver says.
    signature_tensors = [
        t.name
        for sig in meta_graph.signature_def.values()
        for t in (*sig.inputs.values(), *sig.outputs.values())
    ]
    saver_nodes -= _ancestors((_node_name(t) for t in signature_tensors), nodes)
    entry_nodes = [node for name, node in nodes.items() if name not in saver_nodes]

    saver_fns = _closure(
        (ref for name in saver_nodes for ref in _function_refs(nodes[name], library)), calls
    )
    entry_fns = _closure(
        [ref for node in entry_nodes for ref in _function_refs(node, library)]
        + list(meta_graph.object_graph_def.concrete_functions.keys()),
        calls,
    )
    saver_only = saver_fns - entry_fns

    found: set[Finding] = set()
    for node in graph.node:
        if node.op in HOST_OPS or (node.op in CHECKPOINT_OPS and node.name not in saver_nodes):
            found.add(Finding(node.op, "the main graph"))
    for name, f in functions.items():
        for node in f.node_def:
            if node.op in HOST_OPS or (node.op in CHECKPOINT_OPS and name not in saver_only):
                found.add(Finding(node.op, f"function {name}"))
    return sorted(found, key=lambda f: (f.op, f.where))


def scan_savedmodel(root: Path) -> list[Finding]:
    """Every denied op in the SavedModel directory at root (all meta graphs); [] when clean."""
    # Imported here: the tensorflow package costs seconds to import, paid only by a scan.
    from google.protobuf import message, text_format
    from tensorflow.core.protobuf import saved_model_pb2

    saved = saved_model_pb2.SavedModel()
    binary, text = root / "saved_model.pb", root / "saved_model.pbtxt"
    try:
        if binary.exists():
            saved.ParseFromString(binary.read_bytes())
        elif text.exists():
            text_format.Parse(text.read_text(), saved)
        else:
            raise ScanError("no saved_model.pb at the root of the SavedModel directory")
    except (message.DecodeError, text_format.ParseError, UnicodeDecodeError) as exc:
        raise ScanError(f"saved_model.pb is not a valid SavedModel: {exc}") from None
    found: list[Finding] = []
    for meta_graph in saved.meta_graphs:
        found.extend(f for f in scan_meta_graph(meta_graph) if f not in found)
    return found
