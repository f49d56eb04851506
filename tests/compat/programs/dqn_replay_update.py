"""The 'Reinforcement Learning (DQN)' tutorial's update on a toy chain environment written in Python:
namedtuple Transition and a deque ReplayMemory (sampled with a seeded random.Random, the same in both
libraries), Transition(*zip(*transitions)), a non-final mask from map/lambda with dtype=torch.bool,
torch.cat of the non-final next states, policy_net(state).gather(1, action_batch), target_net(...).max(1).values
under no_grad, SmoothL1Loss, clip_grad_value_ with AdamW(amsgrad=True), and the soft target update through
state_dict() items; epsilon-greedy action selection with max(1).indices.view(1, 1)."""
import math
import random
from collections import deque, namedtuple

import torch
import torch.nn as nn
import torch.optim as optim

Transition = namedtuple("Transition", ("state", "action", "next_state", "reward"))


class ReplayMemory:
    def __init__(self, capacity, rng):
        self.memory = deque([], maxlen=capacity)
        self.rng = rng

    def push(self, *args):
        self.memory.append(Transition(*args))

    def sample(self, batch_size):
        return self.rng.sample(self.memory, batch_size)

    def __len__(self):
        return len(self.memory)


class DQN(nn.Module):
    def __init__(self, n_observations, n_actions):
        super().__init__()
        self.layer1 = nn.Linear(n_observations, 32)
        self.layer2 = nn.Linear(32, 32)
        self.layer3 = nn.Linear(32, n_actions)

    def forward(self, x):
        x = torch.relu(self.layer1(x))
        x = torch.relu(self.layer2(x))
        return self.layer3(x)


N_STATES, n_actions = 6, 2


def observe(s):
    return torch.tensor([[float(s == k) for k in range(N_STATES)]])


def env_step(s, a):
    s2 = min(N_STATES - 1, s + 1) if a == 1 else max(0, s - 1)
    done = s2 == N_STATES - 1
    return s2, (1.0 if done else -0.05), done


BATCH_SIZE, GAMMA, EPS_START, EPS_END, EPS_DECAY, TAU, LR = 16, 0.9, 0.9, 0.05, 50, 0.05, 3e-3
policy_net = DQN(N_STATES, n_actions)
with torch.no_grad():
    for i, p in enumerate(policy_net.parameters()):
        p.copy_(0.3 * torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.71 + i).view_as(p))
target_net = DQN(N_STATES, n_actions)
target_net.load_state_dict(policy_net.state_dict())
optimizer = optim.AdamW(policy_net.parameters(), lr=LR, amsgrad=True)
rng = random.Random(0)
memory = ReplayMemory(500, rng)
steps_done = 0


def select_action(state):
    global steps_done
    sample = rng.random()
    eps_threshold = EPS_END + (EPS_START - EPS_END) * math.exp(-1.0 * steps_done / EPS_DECAY)
    steps_done += 1
    if sample > eps_threshold:
        with torch.no_grad():
            return policy_net(state).max(1).indices.view(1, 1)
    return torch.tensor([[rng.randrange(n_actions)]], dtype=torch.long)


def optimize_model():
    if len(memory) < BATCH_SIZE:
        return None
    transitions = memory.sample(BATCH_SIZE)
    batch = Transition(*zip(*transitions))
    non_final_mask = torch.tensor(tuple(map(lambda s: s is not None, batch.next_state)), dtype=torch.bool)
    non_final_next_states = torch.cat([s for s in batch.next_state if s is not None])
    state_batch = torch.cat(batch.state)
    action_batch = torch.cat(batch.action)
    reward_batch = torch.cat(batch.reward)
    state_action_values = policy_net(state_batch).gather(1, action_batch)
    next_state_values = torch.zeros(BATCH_SIZE)
    with torch.no_grad():
        next_state_values[non_final_mask] = target_net(non_final_next_states).max(1).values
    expected_state_action_values = (next_state_values * GAMMA) + reward_batch
    criterion = nn.SmoothL1Loss()
    loss = criterion(state_action_values, expected_state_action_values.unsqueeze(1))
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_value_(policy_net.parameters(), 100)
    optimizer.step()
    return loss.item()


episode_durations = []
for i_episode in range(12):
    s = 0
    state = observe(s)
    losses = []
    for t in range(40):
        action = select_action(state)
        s, reward, terminated = env_step(s, action.item())
        reward = torch.tensor([reward])
        next_state = None if terminated else observe(s)
        memory.push(state, action, next_state, reward)
        state = next_state
        loss = optimize_model()
        if loss is not None:
            losses.append(loss)
        target_net_state_dict = target_net.state_dict()
        policy_net_state_dict = policy_net.state_dict()
        for key in policy_net_state_dict:
            target_net_state_dict[key] = policy_net_state_dict[key] * TAU + target_net_state_dict[key] * (1 - TAU)
        target_net.load_state_dict(target_net_state_dict)
        if terminated:
            episode_durations.append(t + 1)
            break
    else:
        episode_durations.append(40)
    mean_loss = sum(losses) / len(losses) if losses else float("nan")
    print("episode %d duration %d memory %d mean loss %.5f" % (i_episode, episode_durations[-1], len(memory), mean_loss))

with torch.no_grad():
    q = policy_net(torch.eye(N_STATES))
print("greedy policy", q.argmax(1).tolist(), "q", [[round(v, 3) for v in r] for r in q.tolist()])
durations_t = torch.tensor(episode_durations, dtype=torch.float)
means = durations_t.unfold(0, 4, 1).mean(1).view(-1)
print("moving average", [round(v, 3) for v in torch.cat((torch.zeros(3), means)).tolist()])
