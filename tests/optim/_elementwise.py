"""The optimizers whose update is elementwise (``_split_update``), each in a few configurations: the cases of
the blocked-update and the thread-split tests."""
import ember

OPTIMIZERS = {
    "adam": lambda ps: ember.optim.Adam(ps, lr=0.1),
    "adam_l2_maximize": lambda ps: ember.optim.Adam(ps, lr=0.1, weight_decay=0.1, maximize=True),
    "adamw_amsgrad": lambda ps: ember.optim.AdamW(ps, lr=0.1, amsgrad=True),
    "sgd": lambda ps: ember.optim.SGD(ps, lr=0.1),
    "sgd_momentum": lambda ps: ember.optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01),
    "sgd_nesterov": lambda ps: ember.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    "rmsprop_centered_momentum": lambda ps: ember.optim.RMSprop(ps, lr=0.01, momentum=0.9, centered=True),
    "rmsprop_l2": lambda ps: ember.optim.RMSprop(ps, lr=0.01, weight_decay=0.1),
    "adagrad": lambda ps: ember.optim.Adagrad(ps, lr=0.1, lr_decay=0.01, weight_decay=0.1),
    "adadelta": lambda ps: ember.optim.Adadelta(ps, lr=1.0, weight_decay=0.01),
    "adamax": lambda ps: ember.optim.Adamax(ps, lr=0.1),
    "nadam": lambda ps: ember.optim.NAdam(ps, lr=0.1),
    "radam": lambda ps: ember.optim.RAdam(ps, lr=0.1),
}
