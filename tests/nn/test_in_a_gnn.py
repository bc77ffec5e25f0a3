"""The operators inside someone else's GNN: plain tensors, PyG's DataLoader, a few
optimiser steps, falling loss."""
import torch
from torch import nn
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader

from torch_atomsets.nn import GaussianExpansion, MEGNetConv, WeightedMeanAggregation, WeightedSet2Set


class TinyGNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 8)
        self.basis = GaussianExpansion(0.0, 3.0, 16, 0.5)
        self.edge_in = nn.Linear(16, 8)
        self.conv1 = MEGNetConv(8, 8, 4, out_channels=8, hidden_channels=(16,))
        self.conv2 = MEGNetConv(8, 8, 8, out_channels=8, hidden_channels=(16,))
        self.set2set = WeightedSet2Set(8, 8, processing_steps=2)
        self.mean = WeightedMeanAggregation()
        self.head = nn.Sequential(nn.Linear(16 + 8, 16), nn.SiLU(), nn.Linear(16, 1))

    def forward(self, data):
        x = self.embed(data.z)
        e = self.edge_in(self.basis(data.dist))
        u = torch.zeros(data.num_graphs, 4)
        x1, e1, u1 = self.conv1(x, data.edge_index, e, u, data.batch)
        x2, _, _ = self.conv2(x + x1, data.edge_index, e + e1, u1, data.batch)
        h = x + x1 + x2
        pooled = torch.cat([self.set2set(h, data.batch, dim_size=data.num_graphs, weight=data.w),
                            self.mean(h, data.batch, dim_size=data.num_graphs, weight=data.w)], -1)
        return self.head(pooled).squeeze(-1)


def make_dataset(n=48):
    g = torch.Generator().manual_seed(0)
    graphs = []
    for _ in range(n):
        num_nodes = int(torch.randint(2, 7, (1,), generator=g))
        z = torch.randint(1, 10, (num_nodes,), generator=g)
        src, dst = torch.meshgrid(torch.arange(num_nodes), torch.arange(num_nodes), indexing="ij")
        mask = src != dst
        edge_index = torch.stack([src[mask], dst[mask]])
        dist = 1.0 + 2.0 * torch.rand(edge_index.size(1), generator=g)
        w = torch.ones(num_nodes)
        y = (z.float().mean() / 5.0 + 0.1 * (dist < 2.0).float().mean()).reshape(1)
        graphs.append(Data(z=z, edge_index=edge_index, dist=dist, w=w, y=y, num_nodes=num_nodes))
    return graphs


def test_small_gnn_trains_with_falling_loss():
    torch.manual_seed(0)
    model = TinyGNN()
    loader = DataLoader(make_dataset(), batch_size=16, shuffle=True)
    optimiser = torch.optim.Adam(model.parameters(), lr=5e-3)

    def epoch_loss(train):
        total = 0.0
        for batch in loader:
            loss = nn.functional.mse_loss(model(batch), batch.y)
            if train:
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
            total += loss.item() * batch.num_graphs
        return total / len(loader.dataset)

    with torch.no_grad():
        before = epoch_loss(False)
    for _ in range(15):
        epoch_loss(True)
    with torch.no_grad():
        after = epoch_loss(False)
    assert after < 0.2 * before, (before, after)
