// rosetta-example: a small Go client of a Rosetta server. It calls Info, embeds a text, fills a collection
// with a few captions and searches it.
//
//	rosetta-example [-address 127.0.0.1:50051] [-tls-ca ca.pem] [-token T] [-collection go-example] [-query "..."]
//
// Build (offline, Debian's Go packages, GOPATH mode): see clients/go/README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"

	rosetta "rosetta/v1"
)

var captions = map[string]string{
	"dog":    "A dog barking loudly in the backyard",
	"train":  "A passenger train departing from the station at noon",
	"rain":   "Heavy rain pouring down on a tin roof",
	"stocks": "Stock prices dropped sharply on Wall Street",
	"snow":   "Fresh snow covering the mountain peaks",
}

func main() {
	address := flag.String("address", envOr("ROSETTA_ADDRESS", "127.0.0.1:50051"), "server host:port")
	tlsCA := flag.String("tls-ca", os.Getenv("ROSETTA_TLS_CA"), "PEM file of the server's CA (enables TLS)")
	token := flag.String("token", os.Getenv("ROSETTA_TOKEN"), "bearer token (sent as authorization metadata)")
	collection := flag.String("collection", "go-example", "collection to create, fill and search")
	query := flag.String("query", "it is snowing in the mountains", "text to search the collection with")
	flag.Parse()
	if err := run(*address, *tlsCA, *token, *collection, *query); err != nil {
		fmt.Fprintln(os.Stderr, "rosetta-example:", err)
		os.Exit(1)
	}
}

func run(address, tlsCA, token, collection, query string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if token != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	}
	transport := grpc.WithInsecure()
	if tlsCA != "" {
		creds, err := credentials.NewClientTLSFromFile(tlsCA, "")
		if err != nil {
			return fmt.Errorf("reading %s: %w", tlsCA, err)
		}
		transport = grpc.WithTransportCredentials(creds)
	}
	dialCtx, cancelDial := context.WithTimeout(ctx, 5*time.Second)
	defer cancelDial()
	conn, err := grpc.DialContext(dialCtx, address, transport, grpc.WithBlock())
	if err != nil {
		return fmt.Errorf("cannot reach %s: %w", address, err)
	}
	defer conn.Close()
	embeddings := rosetta.NewEmbeddingsClient(conn)
	index := rosetta.NewIndexClient(conn)

	info, err := embeddings.Info(ctx, &rosetta.InfoRequest{})
	if err != nil {
		return fmt.Errorf("Info: %w", err)
	}
	fmt.Printf("server %s, %d models\n", info.Version, len(info.Models))
	for _, m := range info.Models {
		fmt.Printf("  %s: %d-d, modalities %v, default %v\n", m.Id, m.Dimensions, m.Modalities, m.IsDefault)
	}

	embedded, err := embeddings.Embed(ctx, &rosetta.EmbedRequest{
		Inputs: []*rosetta.Input{{Kind: &rosetta.Input_Text{Text: query}}},
	})
	if err != nil {
		return fmt.Errorf("Embed: %w", err)
	}
	vector := embedded.Results[0].Embedding.Float32
	fmt.Printf("embedded %q: %d-d, first values %.4f\n", query, len(vector), vector[:4])

	// A fresh collection of the default model's space, filled with raw texts (the server embeds them).
	_, _ = index.DeleteCollection(ctx, &rosetta.DeleteCollectionRequest{Name: collection})
	created, err := index.CreateCollection(ctx, &rosetta.CreateCollectionRequest{Name: collection, Model: embedded.Model})
	if err != nil {
		return fmt.Errorf("CreateCollection: %w", err)
	}
	upsert := &rosetta.UpsertRequest{Collection: created.Name}
	for id, text := range captions {
		upsert.Items = append(upsert.Items, &rosetta.Item{
			Id:       id,
			Content:  &rosetta.Item_Input{Input: &rosetta.Input{Kind: &rosetta.Input_Text{Text: text}}},
			Metadata: map[string]*rosetta.MetadataValue{"text": {Kind: &rosetta.MetadataValue_StringValue{StringValue: text}}},
		})
	}
	upserted, err := index.Upsert(ctx, upsert)
	if err != nil {
		return fmt.Errorf("Upsert: %w", err)
	}
	for _, r := range upserted.Results {
		if r.Status.GetCode() != 0 {
			return fmt.Errorf("Upsert item %s: %s", r.Id, r.Status.Message)
		}
	}

	// Search with the vector embedded above (a text query works too: Query: &rosetta.SearchRequest_Input{...}).
	found, err := index.Search(ctx, &rosetta.SearchRequest{
		Collection: created.Name,
		Query:      &rosetta.SearchRequest_Vector{Vector: &rosetta.Vector{Values: vector}},
		TopK:       3,
	})
	if err != nil {
		return fmt.Errorf("Search: %w", err)
	}
	fmt.Printf("search %s for %q:\n", created.Name, query)
	for i, hit := range found.Hits {
		fmt.Printf("  %d. %-7s %.3f  %s\n", i+1, hit.Id, hit.Score, hit.Metadata["text"].GetStringValue())
	}
	_, err = index.DeleteCollection(ctx, &rosetta.DeleteCollectionRequest{Name: collection})
	return err
}

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}
