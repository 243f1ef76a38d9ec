"""A drop-in for ``torch.utils.tensorboard.SummaryWriter`` that streams to babysit.

Change one import and keep the rest of the script:

    # from torch.utils.tensorboard import SummaryWriter
    from babysit.tensorboard import SummaryWriter

    writer = SummaryWriter("runs/exp1")               # a babysit run named "runs/exp1"
    for step in range(1000):
        writer.add_scalar("train/loss", loss, step)
        writer.add_histogram("fc1/weight", model.fc1.weight, step)
    writer.add_hparams({"lr": 0.1}, {"hparam/acc": acc})
    writer.close()

``SummaryWriter(..., mirror=True)`` also writes the usual event files through torch's own writer
(when torch and the tensorboard package are installed), so TensorBoard keeps working beside babysit.
Like the rest of babysit, no method ever raises into the training loop: bad arguments warn once and
are dropped.
"""

from __future__ import annotations

import math
import os
import socket
import time
from datetime import datetime
from typing import Any, Dict, Optional

from . import _state
from ._output import OnceWarner, user_stacklevel

__all__ = ["SummaryWriter"]

DEFAULT_PROJECT = "tensorboard"
# torch's dataformats for add_image / add_images, and where each axis is
_IMAGE_FORMATS = ("CHW", "HWC", "HW", "WH")


def _numpy():
    try:
        import numpy

        return numpy
    except ImportError:
        return None


def _to_numpy(x: Any) -> Any:
    np = _numpy()
    if np is None:
        raise ValueError("numpy is needed for this input")
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        x = x.detach().cpu()
        if str(getattr(x, "dtype", "")) == "torch.bfloat16":
            x = x.float()
        x = x.numpy()
    return np.asarray(x)


def _is_step(step: Any) -> bool:
    if isinstance(step, bool):
        return False
    if hasattr(step, "item") and getattr(step, "ndim", 0) == 0:
        try:
            step = step.item()
        except Exception:
            return False
    return isinstance(step, int) or (isinstance(step, float) and step.is_integer())


class SummaryWriter:
    """Writes what torch's SummaryWriter writes to a babysit run (and, with mirror=True, to event files).

    Args:
        log_dir: as torch's: default ``runs/<date>_<host><comment>``. It names the babysit run.
        comment: appended to the default log_dir (ignored when log_dir is given, as in torch).
        purge_step, max_queue, flush_secs, filename_suffix: passed to torch's writer when mirroring;
            otherwise accepted and ignored (babysit batches and sends in the background).
        project: babysit project (default ``$BABYSIT_PROJECT``, else ``"tensorboard"``).
        name: run name (default: `log_dir`).
        config: hyperparameters of the run (add_hparams adds to them).
        url: server address (default ``$BABYSIT_URL``, else ``http://127.0.0.1:3000``).
        run: an existing babysit run to write into (it is not finished by close()).
        mirror: also write TensorBoard event files with ``torch.utils.tensorboard.SummaryWriter``
            (default ``$BABYSIT_TB_MIRROR`` = 1/true; if torch or tensorboard is missing: one warning).
        mode: ``"online"``, ``"offline"`` or ``"disabled"`` (default ``$BABYSIT_MODE``), as babysit.init's.
        **init_kwargs: more arguments for babysit.init (``spool_dir``, ``flush_interval``, ``quiet``...).

    Steps: add_* without ``global_step`` count per tag (0, 1, 2... for each tag), so a curve logged
    without steps is a curve; torch itself writes every such value at step 0.

    Example:
        >>> with SummaryWriter("runs/lr0.1", config={"lr": 0.1}) as w:   # doctest: +SKIP
        ...     w.add_scalar("loss", 0.5, 0)
    """

    def __init__(self, log_dir: Any = None, comment: str = "", purge_step: Any = None, max_queue: int = 10,
                 flush_secs: int = 120, filename_suffix: str = "", *, project: Optional[str] = None,
                 name: Optional[str] = None, config: Any = None, url: Optional[str] = None, run: Any = None,
                 mirror: Optional[bool] = None, mode: Optional[str] = None, **init_kwargs: Any) -> None:
        self._warner = OnceWarner()
        if not log_dir:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", stamp + "_" + socket.gethostname() + str(comment or ""))
        self.log_dir = str(log_dir)
        self._steps: Dict[str, int] = {}  # tag -> last step written (per-tag counters for global_step=None)
        self._closed = False
        self._own = run is None
        self._run: Any = run
        if run is None:
            import babysit

            proj = project or os.environ.get("BABYSIT_PROJECT") or DEFAULT_PROJECT
            run_name = name if name is not None else os.path.normpath(self.log_dir)[-200:]
            try:
                self._run = babysit.init(proj, name=run_name, config=config, url=url, mode=mode, **init_kwargs)
            except (TypeError, ValueError) as err:
                # A writer that cannot be made must not stop training: a disabled run takes its place.
                self._warn("init", "SummaryWriter could not start a babysit run (%s); nothing is sent" % (err,))
                from ._disabled import DisabledRun

                self._run = DisabledRun(proj)
        elif config is not None:
            self._run.update_config(config)
        self._mirror: Any = None
        if mirror is None:
            mirror = os.environ.get("BABYSIT_TB_MIRROR", "").lower() in ("1", "true", "yes")
        if mirror:
            try:
                from torch.utils.tensorboard import SummaryWriter as _TorchWriter

                self._mirror = _TorchWriter(log_dir=self.log_dir, comment=comment, purge_step=purge_step,
                                            max_queue=max_queue, flush_secs=flush_secs, filename_suffix=filename_suffix)
            except Exception as err:
                self._warn("mirror", "mirror=True but torch.utils.tensorboard is not usable (%s); "
                           "streaming to babysit only, no event files" % (err,))

    # ------------------------------------------------------------------ helpers

    @property
    def run(self) -> Any:
        """The babysit run this writer writes to."""
        return self._run

    def get_logdir(self) -> str:
        """The log directory (the run's name), as torch's get_logdir()."""
        return self.log_dir

    def _warn(self, key: str, message: str) -> None:
        self._warner.warn(key, message, stacklevel=user_stacklevel())

    def _forward(self, method: str, *args: Any, **kwargs: Any) -> None:
        if self._mirror is None:
            return
        try:
            getattr(self._mirror, method)(*args, **kwargs)
        except Exception as err:
            self._warn("mirror:" + method, "the mirrored torch SummaryWriter.%s failed: %r" % (method, err))

    def _step(self, tag: str, global_step: Any) -> int:
        """global_step as an int; without one, the tag's next step (its own counter)."""
        if global_step is not None:
            if _is_step(global_step) and int(global_step) >= 0:
                step = int(global_step)
                self._steps[tag] = step
                return step
            self._warn("step:%s" % type(global_step).__name__,
                       "global_step must be an integer >= 0, got %r; counting steps for this tag instead" % (global_step,))
        last = self._steps.get(tag)
        step = 0 if last is None else last + 1
        self._steps[tag] = step
        return step

    def _tag_ok(self, tag: Any, what: str) -> bool:
        if isinstance(tag, str):
            return True
        self._warn("tag:" + what, "%s: tag must be a string, got %s; dropped" % (what, type(tag).__name__))
        return False

    def _usable(self, what: str) -> bool:
        if self._closed:
            self._warn("closed:" + what, "%s() called after close(); ignored" % what)
            return False
        return True

    def _log(self, metrics: Dict[str, Any], step: int, walltime: Any) -> None:
        t = None
        if walltime is not None:
            if isinstance(walltime, (int, float)) and not isinstance(walltime, bool) and math.isfinite(walltime) \
                    and 0 < walltime <= time.time() + 300:
                t = float(walltime)
            else:
                self._warn("walltime", "walltime must be seconds since the epoch (not in the future), got %r; "
                           "using the time of the call" % (walltime,))
        if t is None:
            self._run.log(metrics, step=step)
        else:
            self._run.log(metrics, step=step, _walltime=t)

    # ------------------------------------------------------------------ torch's methods

    def add_scalar(self, tag: str, scalar_value: Any, global_step: Any = None, walltime: Any = None,
                   new_style: bool = False, double_precision: bool = False) -> None:
        """Logs one value of the metric `tag` (a number, numpy scalar or one-element tensor)."""
        self._forward("add_scalar", tag, scalar_value, global_step, walltime, new_style, double_precision)
        try:
            if not self._usable("add_scalar") or not self._tag_ok(tag, "add_scalar"):
                return
            self._log({tag: scalar_value}, self._step(tag, global_step), walltime)
        except Exception as err:
            self._warn("add_scalar", "add_scalar(%r) dropped a value: %r" % (tag, err))

    def add_scalars(self, main_tag: str, tag_scalar_dict: Any, global_step: Any = None, walltime: Any = None) -> None:
        """Logs several values under `main_tag`: key ``main_tag/tag`` for each entry of the dict."""
        self._forward("add_scalars", main_tag, tag_scalar_dict, global_step, walltime)
        try:
            if not self._usable("add_scalars") or not self._tag_ok(main_tag, "add_scalars"):
                return
            if not isinstance(tag_scalar_dict, dict):
                self._warn("add_scalars:dict", "add_scalars() takes a dict of values, got %s; dropped"
                           % type(tag_scalar_dict).__name__)
                return
            by_step: Dict[int, Dict[str, Any]] = {}
            for tag, value in tag_scalar_dict.items():
                key = "%s/%s" % (main_tag, tag)
                by_step.setdefault(self._step(key, global_step), {})[key] = value
            for step, metrics in sorted(by_step.items()):
                self._log(metrics, step, walltime)
        except Exception as err:
            self._warn("add_scalars", "add_scalars(%r) dropped values: %r" % (main_tag, err))

    def add_histogram(self, tag: str, values: Any, global_step: Any = None, bins: Any = "tensorflow",
                      walltime: Any = None, max_bins: Any = None) -> None:
        """Logs a histogram of `values` (tensor, numpy array or list).

        ``bins``: an int (that many equal-width bins), or numpy's bin rules ("auto", "fd", ...) or edges
        (needs numpy). torch's default "tensorflow" becomes babysit's 30 equal-width bins."""
        self._forward("add_histogram", tag, values, global_step, bins, walltime, max_bins)
        try:
            if not self._usable("add_histogram") or not self._tag_ok(tag, "add_histogram"):
                return
            if isinstance(values, (str, bytes)) or values is None:
                self._warn("add_histogram:values", "add_histogram(%r) takes a tensor, array or list of numbers, got %s; dropped"
                           % (tag, type(values).__name__))
                return
            step = self._step("histogram:" + tag, global_step)
            if isinstance(bins, int) and not isinstance(bins, bool) and bins > 0:
                self._run.log_histogram(tag, values, step=step, bins=min(bins, 1000))
                return
            if bins is None or bins == "tensorflow":
                self._run.log_histogram(tag, values, step=step)
                return
            np = _numpy()
            arr = _to_numpy(values).astype("float64").ravel()
            arr = arr[np.isfinite(arr)]
            counts, edges = np.histogram(arr, bins=bins)
            self._run.log_histogram(tag, (edges, counts), step=step)
        except Exception as err:
            self._warn("add_histogram:%s" % type(err).__name__, "add_histogram(%r) dropped a histogram: %s" % (tag, err))

    def add_histogram_raw(self, tag: str, min: Any, max: Any, num: Any, sum: Any, sum_squares: Any,
                          bucket_limits: Any, bucket_counts: Any, global_step: Any = None, walltime: Any = None) -> None:
        """Logs a ready histogram: `bucket_limits` are the right edges of the buckets, `min` the left one."""
        self._forward("add_histogram_raw", tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts,
                      global_step, walltime)
        try:
            if not self._usable("add_histogram_raw") or not self._tag_ok(tag, "add_histogram_raw"):
                return
            limits = [float(x) for x in (bucket_limits.tolist() if hasattr(bucket_limits, "tolist") else bucket_limits)]
            counts = [float(x) for x in (bucket_counts.tolist() if hasattr(bucket_counts, "tolist") else bucket_counts)]
            edges = [builtin_min(float(min), limits[0])] + limits if limits else []
            self._run.log_histogram(tag, (edges, counts), step=self._step("histogram:" + tag, global_step))
        except Exception as err:
            self._warn("add_histogram_raw", "add_histogram_raw(%r) dropped a histogram: %s" % (tag, err))

    def _image_hwc(self, img: Any, dataformats: str) -> Any:
        fmt = str(dataformats).upper()
        if fmt not in _IMAGE_FORMATS:
            raise ValueError("dataformats must be one of %s, got %r" % (", ".join(_IMAGE_FORMATS), dataformats))
        a = _to_numpy(img)
        if a.ndim != len(fmt):
            raise ValueError("an image with dataformats=%r has %d dimensions, got shape %s" % (fmt, len(fmt), a.shape))
        if fmt == "CHW":
            a = a.transpose(1, 2, 0)
        elif fmt == "WH":
            a = a.T
        if a.ndim == 3 and a.shape[-1] == 1:
            a = a[:, :, 0]
        if a.dtype.kind == "f":
            # torch's convention: floats are in [0, 1] (values outside are clipped), not min..max
            a = (a.clip(0, 1) * 255).round().astype("uint8")
        return a

    def add_image(self, tag: str, img_tensor: Any, global_step: Any = None, walltime: Any = None,
                  dataformats: str = "CHW") -> None:
        """Logs an image (sent as PNG): a tensor or array laid out as `dataformats` ("CHW", "HWC", "HW",
        "WH"); floats in [0, 1] or uint8 in [0, 255], as torch takes them."""
        self._forward("add_image", tag, img_tensor, global_step, walltime, dataformats)
        try:
            if not self._usable("add_image") or not self._tag_ok(tag, "add_image"):
                return
            self._run.log_image(tag, self._image_hwc(img_tensor, dataformats), step=self._step("image:" + tag, global_step))
        except Exception as err:
            self._warn("add_image:%s" % type(err).__name__, "add_image(%r) dropped an image: %s" % (tag, err))

    def add_images(self, tag: str, img_tensor: Any, global_step: Any = None, walltime: Any = None,
                   dataformats: str = "NCHW") -> None:
        """Logs a batch of images as one grid image ("NCHW", "NHWC", "NHW")."""
        self._forward("add_images", tag, img_tensor, global_step, walltime, dataformats)
        try:
            if not self._usable("add_images") or not self._tag_ok(tag, "add_images"):
                return
            fmt = str(dataformats).upper()
            if not fmt.startswith("N"):
                raise ValueError("dataformats must start with N (e.g. 'NCHW'), got %r" % (dataformats,))
            np = _numpy()
            a = _to_numpy(img_tensor)
            imgs = [self._image_hwc(a[i], fmt[1:]) for i in range(a.shape[0])]
            if not imgs:
                return
            imgs = [im if im.ndim == 3 else np.repeat(im[:, :, None], 3, axis=2) for im in imgs]
            n = len(imgs)
            cols = int(math.ceil(math.sqrt(n)))
            rows = int(math.ceil(n / cols))
            h, w, c = imgs[0].shape
            grid = np.zeros((rows * h, cols * w, c), dtype=imgs[0].dtype)
            for i, im in enumerate(imgs):
                r, q = divmod(i, cols)
                grid[r * h:(r + 1) * h, q * w:(q + 1) * w] = im
            self._run.log_image(tag, grid, step=self._step("image:" + tag, global_step))
        except Exception as err:
            self._warn("add_images:%s" % type(err).__name__, "add_images(%r) dropped images: %s" % (tag, err))

    def add_figure(self, tag: str, figure: Any, global_step: Any = None, close: bool = True, walltime: Any = None) -> None:
        """Logs a matplotlib figure (or a list of them, as a row) as an image."""
        self._forward("add_figure", tag, figure, global_step, close, walltime)
        try:
            if not self._usable("add_figure") or not self._tag_ok(tag, "add_figure"):
                return
            np = _numpy()
            figs = figure if isinstance(figure, (list, tuple)) else [figure]
            arrays = []
            for fig in figs:
                fig.canvas.draw()
                arrays.append(np.asarray(fig.canvas.buffer_rgba())[:, :, :3].copy())
                if close:
                    try:
                        import matplotlib.pyplot as plt

                        plt.close(fig)
                    except Exception:
                        pass
            h = builtin_max(a.shape[0] for a in arrays)
            arrays = [np.pad(a, ((0, h - a.shape[0]), (0, 0), (0, 0))) for a in arrays]
            self._run.log_image(tag, np.concatenate(arrays, axis=1), step=self._step("image:" + tag, global_step))
        except Exception as err:
            self._warn("add_figure:%s" % type(err).__name__, "add_figure(%r) dropped a figure: %s" % (tag, err))

    def add_text(self, tag: str, text_string: Any, global_step: Any = None, walltime: Any = None) -> None:
        """Logs text: an event ``text`` with data ``{"tag", "text"}``."""
        self._forward("add_text", tag, text_string, global_step, walltime)
        try:
            if not self._usable("add_text") or not self._tag_ok(tag, "add_text"):
                return
            self._run.event("text", {"tag": tag, "text": str(text_string)}, step=self._step("text:" + tag, global_step))
        except Exception as err:
            self._warn("add_text", "add_text(%r) dropped text: %r" % (tag, err))

    def add_hparams(self, hparam_dict: Any, metric_dict: Any, hparam_domain_discrete: Any = None,
                    run_name: Any = None) -> None:
        """Adds `hparam_dict` to the run's config and logs `metric_dict` at the last step written.

        torch writes them to a separate sub-run of the log directory; in babysit they belong to the
        run itself, so its config and its final metrics sit together."""
        self._forward("add_hparams", hparam_dict, metric_dict, hparam_domain_discrete, run_name)
        try:
            if not self._usable("add_hparams"):
                return
            if not isinstance(hparam_dict, dict) or not isinstance(metric_dict, dict):
                self._warn("add_hparams:dict", "add_hparams() takes two dicts (hparam_dict, metric_dict), got %s and %s; "
                           "dropped" % (type(hparam_dict).__name__, type(metric_dict).__name__))
                return
            if hparam_dict:
                self._run.update_config(hparam_dict)
            if metric_dict:
                # the final values: at the last step this writer wrote (torch puts them in a sub-run)
                step = builtin_max(self._steps.values()) if self._steps else self._run._current_step()
                for key in metric_dict:
                    self._steps[key] = step
                self._run.log(metric_dict, step=step)
        except Exception as err:
            self._warn("add_hparams", "add_hparams() dropped its input: %r" % (err,))

    def flush(self) -> None:
        """Asks the background sender to send what is queued now (returns at once)."""
        self._forward("flush")
        wake = getattr(self._run, "_wake", None)
        if wake is not None:
            wake.set()

    def close(self) -> None:
        """Flushes and, when the writer started the run, finishes it (waits at most 10 s for the server)."""
        if self._closed:
            return
        self._forward("close")
        self._closed = True
        if self._own and self._run is not None:
            try:
                self._run.finish(_crashed_status())
            except Exception as err:
                self._warn("close", "close() could not finish the run: %r" % (err,))

    def __enter__(self) -> "SummaryWriter":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        if exc_type is not None and self._own and not self._closed:
            self._forward("close")
            self._closed = True
            try:
                self._run.finish("crashed")
            except Exception:
                pass
        self.close()
        return False

    def __getattr__(self, name: str) -> Any:
        # add_graph, add_embedding, add_pr_curve, add_audio, add_video, add_mesh, add_custom_scalars...:
        # babysit has nothing to show them on; they go to the mirror only, with one warning each.
        if name.startswith("add_"):
            def not_streamed(*args: Any, **kwargs: Any) -> None:
                self._warn("unsupported:" + name, "SummaryWriter.%s() is not sent to babysit%s"
                           % (name, " (written to the mirrored event files only)" if self._mirror is not None else "; ignored"))
                self._forward(name, *args, **kwargs)

            return not_streamed
        raise AttributeError(name)


builtin_min, builtin_max = min, max


def _crashed_status() -> str:
    return "crashed" if _state._crashed else "finished"
