"""Convolutions: ``Conv1D``, ``Conv2D``, ``DepthwiseConv1D``, ``DepthwiseConv2D``,
``SeparableConv1D``, ``SeparableConv2D``, ``Conv1DTranspose`` and ``Conv2DTranspose``, with
Keras 3's arguments, defaults, weights and configs (``keras/src/layers/convolutional/``); each
1-D layer runs as its 2-D twin on images of height one.

A convolution is a Dense layer applied to every patch of the image with the *same* weights.
For an output position ``(p, q)`` and filter ``f``::

    z[p, q, f] = sum over (i, j, c) of x[p*s + i, q*s + j, c] * kernel[i, j, c, f] + bias[f]

so gathering every patch into one matrix (``_patches.patch_view``, a strided view copied
once) turns the whole layer into one matrix product ``patches @ kernel``, and backward into
two more::

    grad_kernel = patches.T @ grad_z      # a weight's slope, summed over every position
    grad_patches = grad_z @ kernel.T      # then added back where each patch came from

The first line is the course's slope of a weight (value feeding in × slope at the node
fed) summed over every place the shared weight was used. Images are channels-last inside;
``data_format="channels_first"`` moves the channel axis on the way in and out. One-
dimensional layers run as images of height 1.
"""

from __future__ import annotations

import numpy as np

from glassnet import activations as activations_module
from glassnet import initializers as initializers_module
from glassnet import regularizers as regularizers_module
from glassnet.layers import _patches as P
from glassnet.layers.base import Layer, WeightSpec, _positive_int
from glassnet.layers.config_keys import initializer_config, key, regularizer_config
from glassnet.ops.node import Record

# --- the products, on channels-last images (rows, h, w, c) ----------------------------------


def conv_forward(x, kernel, strides, dilation, pads, groups=1, kernel_and_bias=None):
    """``x`` (rows, h, w, c) convolved with ``kernel`` (kh, kw, c / groups, filters).

    Returns the output ``(rows, oh, ow, filters)`` and the patch matrix backward needs:
    ``(rows·oh·ow, kh·kw·c)`` for one group, ``(groups, rows·oh·ow, kh·kw·c/groups)`` else.
    With ``kernel_and_bias`` (one group: the kernel as ``(kh·kw·c, filters)`` with the bias
    as one more row, see ``joint_view``), the patch matrix gets a last column of ones and
    the one product adds the bias too; the matrix returned is then ``(rows·oh·ow,
    kh·kw·c + 1)``.
    """
    kh, kw, cin_g, cout = kernel.shape
    xp = P.pad_images(x, pads)
    oh = P.output_length(xp.shape[1], kh, strides[0], dilation[0], "valid")
    ow = P.output_length(xp.shape[2], kw, strides[1], dilation[1], "valid")
    view = P.patch_view(xp, (kh, kw), strides, dilation, (oh, ow))
    n = x.shape[0]
    m = n * oh * ow
    if groups == 1 and kernel_and_bias is not None:
        width = kh * kw * cin_g
        cols = np.empty((m, width + 1), dtype=x.dtype)
        cols[:, width] = 1
        np.copyto(P.patch_rows_view(cols, view.shape), view)
        z = cols @ kernel_and_bias
    elif groups == 1:
        cols = np.ascontiguousarray(view).reshape(m, kh * kw * cin_g)
        z = cols @ kernel.reshape(kh * kw * cin_g, cout)
    else:
        cout_g = cout // groups
        cols = np.ascontiguousarray(
            view.reshape(m, kh * kw, groups, cin_g).transpose(2, 0, 1, 3)
        ).reshape(groups, m, kh * kw * cin_g)
        kg = _group_kernel(kernel, groups)
        z = np.matmul(cols, kg).transpose(1, 0, 2).reshape(m, cout)
        del cout_g
    return z.reshape(n, oh, ow, cout), cols


def _group_kernel(kernel, groups):
    """(kh, kw, cin_g, groups·cout_g) as (groups, kh·kw·cin_g, cout_g)."""
    kh, kw, cin_g, cout = kernel.shape
    return (
        kernel.reshape(kh, kw, cin_g, groups, cout // groups)
        .transpose(3, 0, 1, 2, 4)
        .reshape(groups, kh * kw * cin_g, cout // groups)
    )


def joint_view(kernel: np.ndarray, bias: np.ndarray) -> np.ndarray | None:
    """``kernel`` (..., filters) and ``bias`` (filters,) as one ``(kernel rows + 1,
    filters)`` matrix, a view, when the bias lies right after the kernel in one writable
    buffer (a model's weight storage keeps them so); else ``None``."""
    if not (kernel.flags.c_contiguous and bias.flags.c_contiguous):
        return None
    if kernel.dtype != bias.dtype or kernel.ctypes.data + kernel.nbytes != bias.ctypes.data:
        return None
    base = kernel.base if kernel.base is not None else kernel
    if bias.base is not base and bias.base is not getattr(base, "base", None):
        return None
    rows, cols = kernel.size // kernel.shape[-1] + 1, kernel.shape[-1]
    return np.lib.stride_tricks.as_strided(
        kernel, shape=(rows, cols), strides=(cols * kernel.itemsize, kernel.itemsize)
    )


def conv_backward(
    cols, grad_z, kernel, x_shape, strides, dilation, pads, groups, grad_kernel, need_grad_input
):
    """Slopes of ``conv_forward``: writes the kernel's into ``grad_kernel`` (unless
    ``None``) and returns the input's (or ``None``)."""
    kh, kw, cin_g, cout = kernel.shape
    n, oh, ow, _ = grad_z.shape
    m = n * oh * ow
    g2 = grad_z.reshape(m, cout)
    (top, bottom), (left, right) = pads
    _, h, w, c = x_shape
    if groups == 1:
        if grad_kernel is not None:
            # with a column of ones in the patches, ``grad_kernel`` is the joint
            # (kh·kw·c + 1, filters) slope of the kernel and the bias: one product
            np.matmul(cols.T, g2, out=grad_kernel.reshape(cols.shape[1], cout))
        if not need_grad_input:
            return None
        grad_cols = (g2 @ kernel.reshape(kh * kw * cin_g, cout).T).reshape(
            n, oh, ow, kh, kw, cin_g
        )
    else:
        cout_g = cout // groups
        gg = np.ascontiguousarray(g2.reshape(m, groups, cout_g).transpose(1, 0, 2))
        if grad_kernel is not None:
            gk = np.matmul(cols.transpose(0, 2, 1), gg)  # (groups, kh·kw·cin_g, cout_g)
            grad_kernel[...] = (
                gk.reshape(groups, kh, kw, cin_g, cout_g)
                .transpose(1, 2, 3, 0, 4)
                .reshape(kernel.shape)
            )
        if not need_grad_input:
            return None
        kg = _group_kernel(kernel, groups)
        grad_cols = (
            np.matmul(gg, kg.transpose(0, 2, 1))
            .reshape(groups, n, oh, ow, kh, kw, cin_g)
            .transpose(1, 2, 3, 4, 5, 0, 6)
            .reshape(n, oh, ow, kh, kw, groups * cin_g)
        )
    grad_xp = np.zeros((n, h + top + bottom, w + left + right, c), dtype=grad_z.dtype)
    P.add_patches(grad_xp, grad_cols, strides, dilation)
    return P.crop_pads(grad_xp, pads, (h, w))


# --- shared configuration -------------------------------------------------------------------



def _refuse_unsupported(layer_name: str, **values) -> None:
    for what, value in values.items():
        if value is not None:
            raise NotImplementedError(
                f"{layer_name} does not support `{what}` yet (received {value!r})"
            )


_SHARED_KEYS = (
    key("activation", "activation"),
    key("use_bias", "bool", True),
    key("bias_initializer", "initializer", "zeros"),
    key("bias_regularizer", "regularizer"),
    key("bias_constraint", "inert"),
    key("activity_regularizer", "inert"),
)


def _window_keys(rank: int, causal: bool = False, dilation: bool = True) -> tuple:
    keys = (
        key("kernel_size", "ints", length=rank),
        key("strides", "ints", 1, length=rank),
        key(
            "padding",
            "choice",
            "valid",
            allowed=("valid", "same", "causal") if causal else ("valid", "same"),
        ),
        key(
            "data_format",
            "choice",
            "channels_last",
            allowed=(None, "channels_last", "channels_first"),
        ),
    )
    if dilation:
        keys += (key("dilation_rate", "ints", 1, length=rank),)
    return keys


def _sequence_keys(keys: tuple, causal: bool = False) -> tuple:
    """A 2-D layer's config keys for its 1-D twin: the window keys of one axis."""
    window = ("kernel_size", "strides", "padding", "dilation_rate", "data_format")
    return tuple(k for k in keys if k.name not in window) + _window_keys(1, causal=causal)


class _ImageLayer(Layer):
    """Shared shape handling for layers on images (rank 2) or sequences (rank 1)."""

    rank = 2
    #: Each row's output depends on that row only, and the layer draws no random numbers:
    #: a model may run it on chunks of rows in parallel (``engine/row_chunks.py``).
    rows_independent = True
    #: Large arrays per row: a run of such layers is worth splitting into chunks.
    image_work = True

    def _check_rows(self, input_shape) -> None:
        if len(input_shape) != self.rank + 1:
            raise P.image_rows_error(self, input_shape, self.rank, self.data_format)

    def _as_images(self, x):
        """A batch as channels-last images (rows, h, w, c) (height 1 for sequences)."""
        x = P.to_channels_last(x, self.data_format)
        return x[:, None] if self.rank == 1 else x

    def _from_images(self, y):
        if self.rank == 1:
            y = y[:, 0]
        return P.from_channels_last(y, self.data_format)

    def _spatial(self, input_shape):
        shape = P.channels_last_shape(input_shape, self.data_format)
        return shape[:-1], shape[-1]

    def _two(self, values, fill=1):
        """A rank-1 tuple as the (height, width) pair of a height-1 image."""
        return (fill, *values) if self.rank == 1 else tuple(values)


class _Conv(_ImageLayer):
    """The shared part of ``Conv1D`` and ``Conv2D`` (``keras/src/layers/convolutional/
    base_conv.py``)."""

    config_keys = (
        key("filters", "int"),
        *_window_keys(2),
        key("groups", "int", 1),
        *_SHARED_KEYS,
        key("kernel_initializer", "initializer", "glorot_uniform"),
        key("kernel_regularizer", "regularizer"),
        key("kernel_constraint", "inert"),
        key("lora_rank", "fixed", allowed=(None,), why="LoRA-adapted layers"),
        key("lora_alpha", "fixed", allowed=(None,), why="LoRA-adapted layers"),
    )

    def __init__(
        self,
        filters: int,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        groups=1,
        activation=None,
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        label = f"{type(self).__name__} {self.name!r}"
        _refuse_unsupported(
            type(self).__name__,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
        )
        self.filters = _positive_int(filters, "filters")
        self.groups = _positive_int(groups, "groups")
        self.kernel_size = P.standardize_tuple(kernel_size, self.rank, "kernel_size", label)
        self.strides = P.standardize_tuple(strides, self.rank, "strides", label)
        self.dilation_rate = P.standardize_tuple(dilation_rate, self.rank, "dilation_rate", label)
        self.padding = P.standardize_padding(padding, label, allow_causal=self.rank == 1)
        self.data_format = P.standardize_data_format(data_format, label)
        if self.filters % self.groups:
            raise ValueError(
                f"{label}: the number of filters must be evenly divisible by the number of "
                f"groups. Received: groups={self.groups}, filters={self.filters}"
            )
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"{label}: `strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}"
            )
        self.activation = activations_module.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers_module.get(kernel_initializer)
        self.bias_initializer = initializers_module.get(bias_initializer)
        self.kernel_regularizer = regularizers_module.get(kernel_regularizer)
        self.bias_regularizer = regularizers_module.get(bias_regularizer)
        self._linear = isinstance(self.activation, activations_module.Linear)

    # shapes and weights

    def _geometry(self, input_shape):
        spatial, channels = self._spatial(input_shape)
        spatial2 = self._two(spatial)
        kernel2, strides2, dil2 = (
            self._two(self.kernel_size),
            self._two(self.strides),
            self._two(self.dilation_rate),
        )
        pads = tuple(
            P.pad_amounts(
                size, k, s, d, "valid" if (self.rank == 1 and axis == 0) else self.padding
            )
            for axis, (size, k, s, d) in enumerate(
                zip(spatial2, kernel2, strides2, dil2, strict=True)
            )
        )
        return spatial, channels, kernel2, strides2, dil2, pads

    def compute_output_shape(self, input_shape):
        self._check_rows(input_shape)
        spatial, _ = self._spatial(input_shape)
        P.check_fits(
            self,
            input_shape,
            spatial,
            self.kernel_size,
            self.strides,
            self.dilation_rate,
            self.padding,
        )
        out = tuple(
            P.output_length(size, k, s, d, self.padding)
            for size, k, s, d in zip(
                spatial, self.kernel_size, self.strides, self.dilation_rate, strict=True
            )
        )
        return P.from_channels_last_shape((*out, self.filters), self.data_format)

    def weight_specs(self, input_shape):
        self._check_rows(input_shape)
        _, channels = self._spatial(input_shape)
        if channels % self.groups:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: the number of input channels must be "
                f"evenly divisible by the number of groups. Received groups={self.groups}, but "
                f"the input has {channels} channels (rows of shape {tuple(input_shape)})"
            )
        specs = [
            WeightSpec(
                "kernel",
                (*self.kernel_size, channels // self.groups, self.filters),
                self.kernel_initializer,
                regularizer=self.kernel_regularizer,
            )
        ]
        if self.use_bias:
            specs.append(
                WeightSpec(
                    "bias",
                    (self.filters,),
                    self.bias_initializer,
                    regularizer=self.bias_regularizer,
                )
            )
        return specs

    # computation

    def forward(self, x, training=False):
        """The output, and a ``Record`` of ``x``, ``z`` (the filters' sums) and ``a``,
        plus the patch matrix (``record.patches``) for backward."""
        _, _, kernel2, strides2, dil2, pads = self._geometry(self.input_shape)
        images = self._as_images(x)
        kernel = self.kernel.reshape(*kernel2, *self.kernel.shape[-2:])
        joint = self._joint(self.values)
        z, cols = conv_forward(images, kernel, strides2, dil2, pads, self.groups, joint)
        if self.use_bias and joint is None:
            z += self.bias
        a = z if self._linear else self.activation(z)
        record = _ConvRecord(x, self._from_images(z), self._from_images(a))
        # a grouped layer's patches (groups, rows·oh·ow, k) are kept rows first, so that a
        # chunked run joins its chunks' records along the rows
        record.patches = (cols if joint is None else cols[:, :-1]) if cols.ndim == 2 else (
            cols.transpose(1, 0, 2))
        record.ones_patches = None if joint is None else cols
        record.images_z = z
        return record.a, record

    def _joint(self, arrays):
        """The kernel as ``(kh·kw·c, filters)`` with the bias as one more row, a view of
        ``arrays`` (the weights or their slopes) when the bias lies right after the kernel
        in memory (as in a model's storage); else ``None``."""
        if self.groups != 1 or not self.use_bias:
            return None
        return joint_view(arrays["kernel"], arrays["bias"])

    def backward(self, records, grad_out, need_grad_input=True, grads=None):
        """Slopes of ``forward``; the weight slopes go to ``grads`` (``{name: array}``,
        the layer's own ``self.grads`` by default)."""
        grads = self.grads if grads is None else grads
        grad_z = (
            grad_out if self._linear else self.activation.backward(records.z, records.a, grad_out)
        )
        records.grad_a = grad_out
        records.grad_z = grad_z
        _, _, kernel2, strides2, dil2, pads = self._geometry(self.input_shape)
        g = self._as_images(grad_z)
        kernel = self.kernel.reshape(*kernel2, *self.kernel.shape[-2:])
        patches, grad_kernel = records.patches, None
        if patches.ndim == 3:
            patches = patches.transpose(1, 0, 2)  # back to (groups, rows·oh·ow, k)
        joint = self._joint(grads) if self.trainable else None
        if joint is not None and records.ones_patches is not None:
            patches, grad_kernel = records.ones_patches, joint  # kernel and bias at once
        elif self.trainable:
            if self.use_bias:
                g.sum(axis=(0, 1, 2), out=grads["bias"])
            grad_kernel = grads["kernel"].reshape(kernel.shape)
        images_shape = (
            len(grad_out),
            *self._two(self._spatial(self.input_shape)[0]),
            self._spatial(self.input_shape)[1],
        )
        grad_x = conv_backward(
            patches,
            np.ascontiguousarray(g),
            kernel,
            images_shape,
            strides2,
            dil2,
            pads,
            self.groups,
            grad_kernel,
            need_grad_input,
        )
        return None if grad_x is None else self._from_images(grad_x)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "groups": self.groups,
            "activation": activations_module.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializer_config(self.kernel_initializer),
            "bias_initializer": initializer_config(self.bias_initializer),
            "kernel_regularizer": regularizer_config(self.kernel_regularizer),
            "bias_regularizer": regularizer_config(self.bias_regularizer),
            "activity_regularizer": None,
            "kernel_constraint": None,
            "bias_constraint": None,
        }


class _ConvRecord(Record):
    """A ``Record`` that also keeps the patch matrix the backward pass multiplies."""

    __slots__ = ("patches", "ones_patches", "images_z")


class Conv2D(_Conv):
    """2-D convolution: ``filters`` kernels of ``kernel_size`` slide over images.

    Rows are images ``(height, width, channels)`` (``data_format="channels_last"``, Keras's
    default) or ``(channels, height, width)``. Weights: ``kernel`` of shape
    ``(kh, kw, channels / groups, filters)`` and ``bias`` of shape ``(filters,)``.

    Example:
        >>> from glassnet.layers import Conv2D
        >>> layer = Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1))
        >>> layer.kernel_size
        (3, 3)
    """

    rank = 2


class Conv1D(_Conv):
    """1-D convolution over sequences ``(steps, channels)``; ``padding="causal"`` pads the
    start only, so an output never sees later steps. Weights: ``kernel`` of shape
    ``(k, channels / groups, filters)`` and ``bias``."""

    rank = 1
    config_keys = _sequence_keys(_Conv.config_keys, causal=True)


class _DepthwiseConv(_ImageLayer):
    """The shared part of ``DepthwiseConv1D`` and ``DepthwiseConv2D`` (``keras/src/layers/
    convolutional/base_depthwise_conv.py``): each input channel is convolved with its own
    ``depth_multiplier`` kernels, a grouped convolution with one group per channel.

    Weights: ``kernel`` of shape ``(*kernel_size, channels, depth_multiplier)`` and ``bias``
    of ``channels · depth_multiplier``; output channel ``c · depth_multiplier + m`` is input
    channel ``c`` through its kernel ``m``.
    """

    config_keys = (
        key("depth_multiplier", "int", 1),
        *_window_keys(2),
        *_SHARED_KEYS,
        key("depthwise_initializer", "initializer", "glorot_uniform"),
        key("depthwise_regularizer", "regularizer"),
        key("depthwise_constraint", "inert"),
    )

    def __init__(
        self,
        kernel_size,
        strides=1,
        padding="valid",
        depth_multiplier=1,
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        label = f"{type(self).__name__} {self.name!r}"
        _refuse_unsupported(
            type(self).__name__,
            activity_regularizer=activity_regularizer,
            depthwise_constraint=depthwise_constraint,
            bias_constraint=bias_constraint,
        )
        self.depth_multiplier = _positive_int(depth_multiplier, "depth_multiplier")
        self.kernel_size = P.standardize_tuple(kernel_size, self.rank, "kernel_size", label)
        self.strides = P.standardize_tuple(strides, self.rank, "strides", label)
        self.dilation_rate = P.standardize_tuple(dilation_rate, self.rank, "dilation_rate", label)
        self.padding = P.standardize_padding(padding, label)
        self.data_format = P.standardize_data_format(data_format, label)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"{label}: `strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}"
            )
        self.activation = activations_module.get(activation)
        self.use_bias = bool(use_bias)
        self.depthwise_initializer = initializers_module.get(depthwise_initializer)
        self.bias_initializer = initializers_module.get(bias_initializer)
        self.depthwise_regularizer = regularizers_module.get(depthwise_regularizer)
        self.bias_regularizer = regularizers_module.get(bias_regularizer)
        self._linear = isinstance(self.activation, activations_module.Linear)

    def _image_window(self, spatial):
        """Strides, dilation and padding on the (height, width) image the layer works on
        (height one for sequences)."""
        strides2, dil2 = self._two(self.strides), self._two(self.dilation_rate)
        pads = tuple(
            P.pad_amounts(size, k, s, d, self.padding)
            for size, k, s, d in zip(
                self._two(spatial), self._two(self.kernel_size), strides2, dil2, strict=True
            )
        )
        return strides2, dil2, pads

    def compute_output_shape(self, input_shape):
        self._check_rows(input_shape)
        spatial, channels = self._spatial(input_shape)
        P.check_fits(
            self,
            input_shape,
            spatial,
            self.kernel_size,
            self.strides,
            self.dilation_rate,
            self.padding,
        )
        out = tuple(
            P.output_length(size, k, s, d, self.padding)
            for size, k, s, d in zip(
                spatial, self.kernel_size, self.strides, self.dilation_rate, strict=True
            )
        )
        return P.from_channels_last_shape(
            (*out, channels * self.depth_multiplier), self.data_format
        )

    def weight_specs(self, input_shape):
        self._check_rows(input_shape)
        _, channels = self._spatial(input_shape)
        specs = [
            WeightSpec(
                "kernel",
                (*self.kernel_size, channels, self.depth_multiplier),
                self.depthwise_initializer,
                regularizer=self.depthwise_regularizer,
            )
        ]
        if self.use_bias:
            specs.append(
                WeightSpec(
                    "bias",
                    (channels * self.depth_multiplier,),
                    self.bias_initializer,
                    regularizer=self.bias_regularizer,
                )
            )
        return specs

    def _grouped(self, kernel):
        """A ``(*kernel_size, c, m)`` kernel as the grouped ``(kh, kw, 1, c · m)`` one."""
        return kernel.reshape(*self._two(self.kernel_size), 1, -1)

    def forward(self, x, training=False):
        spatial, channels = self._spatial(self.input_shape)
        images = self._as_images(x)
        z, cols = conv_forward(
            images, self._grouped(self.kernel), *self._image_window(spatial), channels
        )
        if self.use_bias:
            z += self.bias
        a = z if self._linear else self.activation(z)
        record = _ConvRecord(x, self._from_images(z), self._from_images(a))
        # the patches (channels, rows·oh·ow, kh·kw) are kept rows first (a view), so that a
        # chunked run joins its chunks' records along the rows
        record.patches = cols.transpose(1, 0, 2)
        return record.a, record

    def backward(self, records, grad_out, need_grad_input=True, grads=None):
        grads = self.grads if grads is None else grads
        grad_z = (
            grad_out if self._linear else self.activation.backward(records.z, records.a, grad_out)
        )
        records.grad_a, records.grad_z = grad_out, grad_z
        spatial, channels = self._spatial(self.input_shape)
        g = np.ascontiguousarray(self._as_images(grad_z))
        if self.trainable and self.use_bias:
            g.sum(axis=(0, 1, 2), out=grads["bias"])
        grad_kernel = self._grouped(grads["kernel"]) if self.trainable else None
        grad_x = conv_backward(
            records.patches.transpose(1, 0, 2),  # back to (channels, rows·oh·ow, kh·kw)
            g,
            self._grouped(self.kernel),
            (len(g), *self._two(spatial), channels),
            *self._image_window(spatial),
            channels,
            grad_kernel,
            need_grad_input,
        )
        return None if grad_x is None else self._from_images(grad_x)

    def get_config(self):
        return {
            **super().get_config(),
            "depth_multiplier": self.depth_multiplier,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": activations_module.serialize(self.activation),
            "use_bias": self.use_bias,
            "depthwise_initializer": initializer_config(self.depthwise_initializer),
            "bias_initializer": initializer_config(self.bias_initializer),
            "depthwise_regularizer": regularizer_config(self.depthwise_regularizer),
            "bias_regularizer": regularizer_config(self.bias_regularizer),
            "activity_regularizer": None,
            "depthwise_constraint": None,
            "bias_constraint": None,
        }


class _SeparableConv(_ImageLayer):
    """The shared part of ``SeparableConv1D`` and ``SeparableConv2D`` (``keras/src/layers/
    convolutional/base_separable_conv.py``): a depthwise convolution followed by a
    pointwise (size-one) convolution that mixes the channels.

    Weights, in Keras's order: ``depthwise_kernel`` ``(*kernel_size, channels,
    depth_multiplier)``, ``pointwise_kernel`` ``(*ones, channels · depth_multiplier,
    filters)``, ``bias`` ``(filters,)``.
    """

    config_keys = (
        key("filters", "int"),
        key("depth_multiplier", "int", 1),
        *_window_keys(2),
        *_SHARED_KEYS,
        key("depthwise_initializer", "initializer", "glorot_uniform"),
        key("pointwise_initializer", "initializer", "glorot_uniform"),
        key("depthwise_regularizer", "regularizer"),
        key("pointwise_regularizer", "regularizer"),
        key("depthwise_constraint", "inert"),
        key("pointwise_constraint", "inert"),
    )

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        depth_multiplier=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        pointwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        pointwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        pointwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        label = f"{type(self).__name__} {self.name!r}"
        _refuse_unsupported(
            type(self).__name__,
            activity_regularizer=activity_regularizer,
            depthwise_constraint=depthwise_constraint,
            pointwise_constraint=pointwise_constraint,
            bias_constraint=bias_constraint,
        )
        self.filters = _positive_int(filters, "filters")
        self.depth_multiplier = _positive_int(depth_multiplier, "depth_multiplier")
        self.kernel_size = P.standardize_tuple(kernel_size, self.rank, "kernel_size", label)
        self.strides = P.standardize_tuple(strides, self.rank, "strides", label)
        self.dilation_rate = P.standardize_tuple(dilation_rate, self.rank, "dilation_rate", label)
        self.padding = P.standardize_padding(padding, label)
        self.data_format = P.standardize_data_format(data_format, label)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"{label}: `strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}"
            )
        self.activation = activations_module.get(activation)
        self.use_bias = bool(use_bias)
        self.depthwise_initializer = initializers_module.get(depthwise_initializer)
        self.pointwise_initializer = initializers_module.get(pointwise_initializer)
        self.bias_initializer = initializers_module.get(bias_initializer)
        self.depthwise_regularizer = regularizers_module.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers_module.get(pointwise_regularizer)
        self.bias_regularizer = regularizers_module.get(bias_regularizer)
        self._linear = isinstance(self.activation, activations_module.Linear)

    _image_window = _DepthwiseConv._image_window
    _grouped = _DepthwiseConv._grouped

    def compute_output_shape(self, input_shape):
        self._check_rows(input_shape)
        spatial, _ = self._spatial(input_shape)
        P.check_fits(
            self,
            input_shape,
            spatial,
            self.kernel_size,
            self.strides,
            self.dilation_rate,
            self.padding,
        )
        out = tuple(
            P.output_length(size, k, s, d, self.padding)
            for size, k, s, d in zip(
                spatial, self.kernel_size, self.strides, self.dilation_rate, strict=True
            )
        )
        return P.from_channels_last_shape((*out, self.filters), self.data_format)

    def weight_specs(self, input_shape):
        self._check_rows(input_shape)
        _, channels = self._spatial(input_shape)
        mid = channels * self.depth_multiplier
        specs = [
            WeightSpec(
                "depthwise_kernel",
                (*self.kernel_size, channels, self.depth_multiplier),
                self.depthwise_initializer,
                regularizer=self.depthwise_regularizer,
            ),
            WeightSpec(
                "pointwise_kernel",
                ((1,) * self.rank + (mid, self.filters)),
                self.pointwise_initializer,
                regularizer=self.pointwise_regularizer,
            ),
        ]
        if self.use_bias:
            specs.append(
                WeightSpec(
                    "bias",
                    (self.filters,),
                    self.bias_initializer,
                    regularizer=self.bias_regularizer,
                )
            )
        return specs

    def forward(self, x, training=False):
        spatial, channels = self._spatial(self.input_shape)
        images = self._as_images(x)
        dk = self._grouped(self.depthwise_kernel)
        mid, cols = conv_forward(images, dk, *self._image_window(spatial), channels)
        n, oh, ow, cm = mid.shape
        mid2 = mid.reshape(n * oh * ow, cm)
        z = (mid2 @ self.pointwise_kernel.reshape(cm, self.filters)).reshape(n, oh, ow, -1)
        if self.use_bias:
            z += self.bias
        a = z if self._linear else self.activation(z)
        record = _ConvRecord(x, self._from_images(z), self._from_images(a))
        # the depthwise patches rows first (a view), as DepthwiseConv2D keeps them, so that a
        # chunked run joins both arrays along the rows
        record.patches = (cols.transpose(1, 0, 2), mid2)
        return record.a, record

    def backward(self, records, grad_out, need_grad_input=True, grads=None):
        grads = self.grads if grads is None else grads
        grad_z = (
            grad_out if self._linear else self.activation.backward(records.z, records.a, grad_out)
        )
        records.grad_a, records.grad_z = grad_out, grad_z
        spatial, channels = self._spatial(self.input_shape)
        cols, mid2 = records.patches
        cols = cols.transpose(1, 0, 2)  # back to (channels, rows·oh·ow, kh·kw)
        g = np.ascontiguousarray(self._as_images(grad_z))
        n, oh, ow, f = g.shape
        g2 = g.reshape(-1, f)
        cm = mid2.shape[1]
        pk = self.pointwise_kernel.reshape(cm, f)
        if self.trainable:
            if self.use_bias:
                g2.sum(axis=0, out=grads["bias"])
            np.matmul(mid2.T, g2, out=grads["pointwise_kernel"].reshape(cm, f))
        grad_mid = (g2 @ pk.T).reshape(n, oh, ow, cm)
        dk = self._grouped(self.depthwise_kernel)
        grad_dk = self._grouped(grads["depthwise_kernel"]) if self.trainable else None
        grad_x = conv_backward(
            cols,
            grad_mid,
            dk,
            (n, *self._two(spatial), channels),
            *self._image_window(spatial),
            channels,
            grad_dk,
            need_grad_input,
        )
        return None if grad_x is None else self._from_images(grad_x)

    def get_config(self):
        return {
            **super().get_config(),
            "depth_multiplier": self.depth_multiplier,
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": activations_module.serialize(self.activation),
            "use_bias": self.use_bias,
            "depthwise_initializer": initializer_config(self.depthwise_initializer),
            "pointwise_initializer": initializer_config(self.pointwise_initializer),
            "bias_initializer": initializer_config(self.bias_initializer),
            "depthwise_regularizer": regularizer_config(self.depthwise_regularizer),
            "pointwise_regularizer": regularizer_config(self.pointwise_regularizer),
            "bias_regularizer": regularizer_config(self.bias_regularizer),
            "activity_regularizer": None,
            "depthwise_constraint": None,
            "pointwise_constraint": None,
            "bias_constraint": None,
        }


class DepthwiseConv2D(_DepthwiseConv):
    """Convolves each input channel of images with its own ``depth_multiplier`` kernels
    (``keras/src/layers/convolutional/depthwise_conv2d.py``). Weights: ``kernel`` of shape
    ``(kh, kw, channels, depth_multiplier)`` and ``bias`` of ``channels · depth_multiplier``.
    """

    rank = 2


class DepthwiseConv1D(_DepthwiseConv):
    """Convolves each channel of sequences ``(steps, channels)`` with its own
    ``depth_multiplier`` kernels (``keras/src/layers/convolutional/depthwise_conv1d.py``),
    run as ``DepthwiseConv2D`` on images of height one. Padding ``valid`` or ``same`` (no
    ``causal``, as in Keras). Weights: ``kernel`` of shape ``(kernel_size, channels,
    depth_multiplier)`` and ``bias`` of ``channels · depth_multiplier``.

    Example:
        >>> from glassnet.layers import DepthwiseConv1D
        >>> DepthwiseConv1D(3, depth_multiplier=2).compute_output_shape((10, 4))
        (8, 8)
    """

    rank = 1
    config_keys = _sequence_keys(_DepthwiseConv.config_keys)


class SeparableConv2D(_SeparableConv):
    """A depthwise convolution over images followed by a 1×1 convolution that mixes the
    channels (``keras/src/layers/convolutional/separable_conv2d.py``). Weights, in Keras's
    order: ``depthwise_kernel`` ``(kh, kw, channels, depth_multiplier)``,
    ``pointwise_kernel`` ``(1, 1, channels · depth_multiplier, filters)``, ``bias``
    ``(filters,)``.
    """

    rank = 2


class SeparableConv1D(_SeparableConv):
    """A depthwise convolution over sequences ``(steps, channels)`` followed by a size-one
    convolution that mixes the channels (``keras/src/layers/convolutional/
    separable_conv1d.py``), run as ``SeparableConv2D`` on images of height one. Padding
    ``valid`` or ``same`` (no ``causal``, as in Keras). Weights, in Keras's order:
    ``depthwise_kernel`` ``(kernel_size, channels, depth_multiplier)``, ``pointwise_kernel``
    ``(1, channels · depth_multiplier, filters)``, ``bias`` ``(filters,)``.

    Example:
        >>> from glassnet.layers import SeparableConv1D
        >>> SeparableConv1D(5, 3, strides=2, padding="same").compute_output_shape((10, 4))
        (5, 5)
    """

    rank = 1
    config_keys = _sequence_keys(_SeparableConv.config_keys)


class _ConvTranspose(_ImageLayer):
    """The shared part of ``Conv1DTranspose`` and ``Conv2DTranspose`` (``keras/src/layers/
    convolutional/base_conv_transpose.py``): each input position spreads ``kernel``-weighted
    copies of itself over an output window, so ``strides=2`` doubles the size.

    Computed as the input slope of a convolution: one product ``x @ kernel.T`` gives every
    window, added into the output one kernel offset at a time. Weights: ``kernel`` of shape
    ``(*kernel_size, filters, channels)`` (Keras's order) and ``bias`` ``(filters,)``.
    """

    config_keys = (
        key("filters", "int"),
        *_window_keys(2),
        key("output_padding", "ints", None, minimum=0, length=2, optional=True),
        *_SHARED_KEYS,
        key("kernel_initializer", "initializer", "glorot_uniform"),
        key("kernel_regularizer", "regularizer"),
        key("kernel_constraint", "inert"),
    )

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        output_padding=None,
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        name = type(self).__name__
        label = f"{name} {self.name!r}"
        _refuse_unsupported(
            name,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
        )
        self.filters = _positive_int(filters, "filters")
        self.kernel_size = P.standardize_tuple(kernel_size, self.rank, "kernel_size", label)
        self.strides = P.standardize_tuple(strides, self.rank, "strides", label)
        self.dilation_rate = P.standardize_tuple(dilation_rate, self.rank, "dilation_rate", label)
        self.padding = P.standardize_padding(padding, label)
        self.data_format = P.standardize_data_format(data_format, label)
        self.output_padding = (
            None
            if output_padding is None
            else P.standardize_tuple(
                output_padding, self.rank, "output_padding", label, allow_zero=True
            )
        )
        for i, (op, s) in enumerate(zip(self.output_padding or (), self.strides, strict=False)):
            if op >= s:
                raise ValueError(
                    f"{label}: `output_padding` must be strictly less than `strides` for all "
                    f"dimensions. At dimension {i}, `output_padding` is {op} but `strides` is "
                    f"{s}. Received: output_padding={self.output_padding}, "
                    f"strides={self.strides}"
                )
        self.activation = activations_module.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers_module.get(kernel_initializer)
        self.bias_initializer = initializers_module.get(bias_initializer)
        self.kernel_regularizer = regularizers_module.get(kernel_regularizer)
        self.bias_regularizer = regularizers_module.get(bias_regularizer)
        self._linear = isinstance(self.activation, activations_module.Linear)

    def _sizes(self, spatial):
        """Per axis: the output size, the padding before it, and the buffer size (keras
        backend_utils._get_output_shape_given_tf_padding; TensorFlow pads ``same`` by half
        the excess, the odd one after)."""
        result = []
        paddings = self.output_padding or (None,) * self.rank
        for size, k, s, d, op in zip(
            spatial, self.kernel_size, self.strides, self.dilation_rate, paddings, strict=True
        ):
            span = d * (k - 1) + 1
            if self.padding == "valid":
                out = (size - 1) * s + (max(span, s) if op is None else span + op)
                before = 0
            else:
                out = size * s if op is None else (size - 1) * s + span % 2 + op
                before = max((size - 1) * s + span - out, 0) // 2
            result.append((out, before, max(before + out, (size - 1) * s + span)))
        return result

    def _image_sizes(self, spatial):
        """``_sizes`` for the (height, width) of the image the layer works on."""
        sizes = self._sizes(spatial)
        return [(1, 0, 1), *sizes] if self.rank == 1 else sizes

    def compute_output_shape(self, input_shape):
        self._check_rows(input_shape)
        spatial, _ = self._spatial(input_shape)
        out = tuple(o for o, _, _ in self._sizes(spatial))
        return P.from_channels_last_shape((*out, self.filters), self.data_format)

    def weight_specs(self, input_shape):
        self._check_rows(input_shape)
        _, channels = self._spatial(input_shape)
        specs = [
            WeightSpec(
                "kernel",
                (*self.kernel_size, self.filters, channels),
                self.kernel_initializer,
                regularizer=self.kernel_regularizer,
            )
        ]
        if self.use_bias:
            specs.append(
                WeightSpec(
                    "bias",
                    (self.filters,),
                    self.bias_initializer,
                    regularizer=self.bias_regularizer,
                )
            )
        return specs

    def forward(self, x, training=False):
        spatial, channels = self._spatial(self.input_shape)
        images = np.ascontiguousarray(self._as_images(x))
        n, hw = len(images), images.shape[1:3]
        kh, kw = self._two(self.kernel_size)
        k2 = self.kernel.reshape(kh * kw * self.filters, channels)
        spread = (images.reshape(-1, channels) @ k2.T).reshape(n, *hw, kh, kw, self.filters)
        sizes = self._image_sizes(spatial)
        buffer = np.zeros((n, sizes[0][2], sizes[1][2], self.filters), dtype=images.dtype)
        P.add_patches(buffer, spread, self._two(self.strides), self._two(self.dilation_rate))
        (oh, top, _), (ow, left, _) = sizes
        z = np.ascontiguousarray(buffer[:, top : top + oh, left : left + ow])
        if self.use_bias:
            z += self.bias
        a = z if self._linear else self.activation(z)
        record = _ConvRecord(x, self._from_images(z), self._from_images(a))
        record.patches = images
        return record.a, record

    def backward(self, records, grad_out, need_grad_input=True, grads=None):
        grads = self.grads if grads is None else grads
        grad_z = (
            grad_out if self._linear else self.activation.backward(records.z, records.a, grad_out)
        )
        records.grad_a, records.grad_z = grad_out, grad_z
        spatial, channels = self._spatial(self.input_shape)
        g = np.ascontiguousarray(self._as_images(grad_z))
        if self.trainable and self.use_bias:
            g.sum(axis=(0, 1, 2), out=grads["bias"])
        (oh, top, bh), (ow, left, bw) = self._image_sizes(spatial)
        n = len(g)
        gp = np.zeros((n, bh, bw, self.filters), dtype=g.dtype)
        gp[:, top : top + oh, left : left + ow] = g
        kh, kw = self._two(self.kernel_size)
        hw = self._two(spatial)
        view = P.patch_view(
            gp, (kh, kw), self._two(self.strides), self._two(self.dilation_rate), hw
        )
        cols = np.ascontiguousarray(view).reshape(-1, kh * kw * self.filters)
        images = records.patches.reshape(-1, channels)
        if self.trainable:
            np.matmul(cols.T, images, out=grads["kernel"].reshape(-1, channels))
        if not need_grad_input:
            return None
        grad_x = (cols @ self.kernel.reshape(-1, channels)).reshape(n, *hw, channels)
        return self._from_images(grad_x)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "output_padding": self.output_padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": activations_module.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializer_config(self.kernel_initializer),
            "bias_initializer": initializer_config(self.bias_initializer),
            "kernel_regularizer": regularizer_config(self.kernel_regularizer),
            "bias_regularizer": regularizer_config(self.bias_regularizer),
            "activity_regularizer": None,
            "kernel_constraint": None,
            "bias_constraint": None,
        }


class Conv2DTranspose(_ConvTranspose):
    """The transpose of a 2-D convolution (``keras/src/layers/convolutional/
    conv2d_transpose.py``): ``strides=2`` doubles the image size; ``output_padding`` (each
    below its stride) adds rows and columns at the end. Weights: ``kernel`` of shape
    ``(kh, kw, filters, channels)`` (Keras's order) and ``bias`` ``(filters,)``.
    """

    rank = 2


class Conv1DTranspose(_ConvTranspose):
    """The transpose of a 1-D convolution over sequences ``(steps, channels)``
    (``keras/src/layers/convolutional/conv1d_transpose.py``): each step spreads over
    ``kernel_size`` output steps, ``strides`` apart. Padding ``valid`` or ``same`` (no
    ``causal``, as in Keras). Weights: ``kernel`` of shape ``(kernel_size, filters,
    channels)`` (Keras's order) and ``bias`` ``(filters,)``.

    Example:
        >>> from glassnet.layers import Conv1DTranspose
        >>> Conv1DTranspose(4, 3, strides=2, padding="same").compute_output_shape((5, 2))
        (10, 4)
    """

    rank = 1
    config_keys = _sequence_keys(
        tuple(
            key("output_padding", "ints", None, minimum=0, length=1, optional=True)
            if k.name == "output_padding"
            else k
            for k in _ConvTranspose.config_keys
        )
    )
